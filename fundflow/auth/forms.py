from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        # No format check here: the account lookup is the check, and .test addresses are valid.
        # Looser than the column: an address no account has is a failed sign-in, not a form error.
        validators=[DataRequired("Enter your email address"), Length(max=1000)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your password"), Length(max=1000)],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())

    #: A failed sign-in is shown on the email address (the service's ``unauthorized``).
    code_fields = {"unauthorized": "email"}


def _password_pair(
    label: str, again_label: str, missing: str, missing_again: str
) -> tuple[UnboundField, UnboundField]:
    """A new password and its confirmation, with the rules every password form shares."""
    password = PasswordField(
        label,
        widget=GovPasswordInput(),
        description="At least 12 characters. A few unrelated words make a strong password.",
        validators=[DataRequired(missing), Length(max=200)],
    )
    again = PasswordField(
        again_label,
        widget=GovPasswordInput(),
        validators=[
            DataRequired(missing_again),
            Length(max=200),
            EqualTo("new_password", "The passwords do not match"),
        ],
    )
    return password, again


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your current password"), Length(max=200)],
    )
    new_password, confirm_password = _password_pair(
        "New password", "Confirm new password", "Enter a new password", "Enter the new password again"
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    new_password, confirm_password = _password_pair(
        "Choose a password", "Enter the password again", "Enter a password", "Enter the password again"
    )
    submit = SubmitField("Set password", widget=GovSubmitInput())


class ForgottenPasswordForm(FlaskForm):
    """The address to send a reset link to. Only its shape is checked here: whether it has an
    account is never shown."""

    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Enter an email address of 254 characters or fewer"),
            Regexp(
                r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$",
                message="Enter an email address in the correct format, like name@example.com",
            ),
        ],
    )
    submit = SubmitField("Send me a link", widget=GovSubmitInput())
