// The main menu scrolls sideways on a phone: show the current page's item, centred when it
// can be, instead of leaving it off-screen to the right. Only the menu scrolls, never the
// page (hence scrollLeft rather than scrollIntoView). A static file: the site's CSP allows
// no inline script.
(function () {
  "use strict";
  function showCurrent() {
    var menu = document.querySelector(".mainnav");
    if (!menu || menu.scrollWidth <= menu.clientWidth) return;
    var current = menu.querySelector('[aria-current="page"]');
    if (!current) return;
    var menuBox = menu.getBoundingClientRect();
    var itemBox = current.getBoundingClientRect();
    var offset = itemBox.left - menuBox.left + menu.scrollLeft;
    menu.scrollLeft = Math.max(0, offset - (menu.clientWidth - itemBox.width) / 2);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showCurrent);
  } else {
    showCurrent();
  }
})();
