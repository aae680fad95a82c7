"""What the forms of every app share, below the apps (the web shell sits above them).

A service's refusal (linli.errors) is shown on the form that caused it: each message at the
field it names when the form has that field, otherwise at the top of the form.
"""

from django import forms
from django.core.exceptions import ValidationError


def form_add_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form. Nothing was written."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
