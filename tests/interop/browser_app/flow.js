// What a browser app does with authgate's cookie API: every call is fetch(..., {credentials:
// "include"}); the tokens live in HttpOnly cookies the page never sees; the page reads only
// the CSRF cookie and echoes it in X-CSRF-Token (double submit) to refresh and to log out.
"use strict";

async function call(api, method, path, options) {
  const headers = {};
  let body;
  if (options && options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  if (options && options.csrf !== undefined) {
    headers["X-CSRF-Token"] = options.csrf;
  }
  const response = await fetch(api + path, { method, headers, body, credentials: "include" });
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  return { status: response.status, body: data };
}

function cookie(name) {
  for (const part of document.cookie.split("; ")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq) === name) {
      return decodeURIComponent(part.slice(eq + 1));
    }
  }
  return null;
}

// login -> secure_test -> refresh by cookie (without, then with X-CSRF-Token) -> secure_test
// -> logout -> secure_test; each step's status and body, and the CSRF cookie as the page saw it.
window.cookieFlow = async function (api, email, password, csrfCookie) {
  const steps = {};
  steps.login = await call(api, "POST", "/u/api/login/", { json: { email, password } });
  steps.secure = await call(api, "GET", "/u/api/secure_test/");
  steps.csrf = cookie(csrfCookie);
  steps.refreshWithoutCsrf = await call(api, "POST", "/u/api/refresh/");
  steps.refresh = await call(api, "POST", "/u/api/refresh/", { csrf: steps.csrf });
  steps.secureAfterRefresh = await call(api, "GET", "/u/api/secure_test/");
  steps.logout = await call(api, "POST", "/u/api/logout/", { csrf: cookie(csrfCookie) });
  steps.secureAfterLogout = await call(api, "GET", "/u/api/secure_test/");
  steps.csrfAfterLogout = cookie(csrfCookie);
  return steps;
};
