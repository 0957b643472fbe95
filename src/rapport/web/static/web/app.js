/* Rapport UI behaviour: small, and only from this file (the CSP forbids inline scripts). */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // htmx requests that change data must carry Django's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
    }
  });

  // Filter selects apply at once; the Search button remains for keyboards and no-JS.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.form && target.form.matches("[data-autosubmit]")) {
      target.form.requestSubmit();
    }
  });
})();
