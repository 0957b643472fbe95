"""Sign-in, sign-out, password change and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from rapport.accounts.services import set_user_language
from rapport.web.decorators import acting_user
from rapport.web.forms import LanguageForm


class LoginView(auth_views.LoginView):
    template_name = "web/account/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        """A language picked on the login page is kept on the account.

        Otherwise the account's language (English by default) would undo the choice the
        moment the person signs in.
        """
        response = super().form_valid(form)
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen in dict(settings.LANGUAGES):
            set_user_language(acting_user(self.request), chosen)
        return response


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):  # type: ignore[type-arg]
    template_name = "web/account/password_change.html"
    success_url = reverse_lazy("dashboard")
    success_message = _("Your password has been changed.")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Save a signed-in user's choice on the account, then let Django set the cookie.

    The cookie alone would be forgotten in the next browser; the account field follows the
    user. Anonymous visitors (the login page) only get the cookie.
    """
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown language.")
    if request.user.is_authenticated:
        set_user_language(acting_user(request), form.cleaned_data["language"])
        messages.success(request, _("Language saved."))
    return set_language(request)
