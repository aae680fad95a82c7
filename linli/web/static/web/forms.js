// A select marked data-autosubmit sends its form when its value changes (with a <noscript>
// button beside it for browsers without JavaScript). A static file instead of an onchange
// attribute: the site's Content-Security-Policy runs no inline script.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field && field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });
})();
