"""The one base of every WTForms form: HTML form posts only.

Flask-WTF would also read a JSON body as form data; a body that is JSON but not an object (`1`, `[1, 2]`,
`"x"`) then fails inside WTForms with a TypeError (a 500), and nested values reach the fields' filters as
lists and dicts. Browsers post our forms as `application/x-www-form-urlencoded` or `multipart/form-data`, so a
JSON body gives a form no data: it is answered like an empty post (422 with the form's messages).
"""
from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto


class HtmlForm(FlaskForm):
    """FlaskForm reading request.form and request.files only, never a JSON body."""

    class Meta:
        def wrap_formdata(self, form, formdata):
            """The posted form fields and files; None (no data) for a post that carries only a JSON body."""
            if formdata is _Auto and request.is_json and not request.form and not request.files:
                return None
            return super().wrap_formdata(form, formdata)
