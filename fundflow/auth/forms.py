from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


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


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[DataRequired("Enter your current password"), Length(max=200)],
    )
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description="At least 12 characters. A few unrelated words make a strong password.",
        validators=[DataRequired("Enter a new password"), Length(max=200)],
    )
    confirm_password = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            DataRequired("Enter the new password again"),
            Length(max=200),
            EqualTo("new_password", "The passwords do not match"),
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "Choose a password",
        widget=GovPasswordInput(),
        description="At least 12 characters. A few unrelated words make a strong password.",
        validators=[DataRequired("Enter a password"), Length(max=200)],
    )
    confirm_password = PasswordField(
        "Enter the password again",
        widget=GovPasswordInput(),
        validators=[
            DataRequired("Enter the password again"),
            Length(max=200),
            EqualTo("new_password", "The passwords do not match"),
        ],
    )
    submit = SubmitField("Set password", widget=GovSubmitInput())
