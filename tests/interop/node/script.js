// Two browser tabs against a live authgate: two axios instances, each with axios-auth-refresh,
// sharing one token store (as tabs share localStorage). Both call a protected endpoint with an
// expired access token at the same moment, both get a 401, both refresh with the same refresh
// token at once, and both must then succeed (issue 12, section 2).
//
// usage: node script.js <base_url> <username> <email> <password>
// Prints one JSON object: per dialect, what each tab saw. Run by
// tests/interop/test_two_tabs_refresh.py (which asserts on it).
"use strict";

const axios = require("axios");
const { createAuthRefresh } = require("axios-auth-refresh");

const [baseURL, username, email, password] = process.argv.slice(2);

// The API of each dialect authgate speaks JWTs in: login, the refresh call, a protected call.
const DIALECTS = {
  simplejwt: {
    login: () => axios.post(`${baseURL}/auth/jwt/create/`, { username, password }),
    pairOf: (data) => ({ access: data.access, refresh: data.refresh }),
    refresh: (token) => axios.post(`${baseURL}/auth/jwt/refresh/`, { refresh: token }),
    protectedPath: "/auth/users/me/",
  },
  cookie_jwt: {
    login: () => axios.post(`${baseURL}/u/api/login/`, { email, password }),
    pairOf: (data) => ({ access: data.access_token, refresh: data.refresh_token }),
    refresh: (token) => axios.post(`${baseURL}/u/api/refresh/`, { refresh_token: token }),
    protectedPath: "/u/api/secure_test/",
  },
};

function expiry(token) {
  const payload = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  return payload.exp;
}

async function untilExpired(token) {
  // The server's access lifetime is 2 s: wait for this token's `exp` to pass (by a second,
  // since `exp` is whole seconds), so the tabs really present an expired token.
  const waitMs = (expiry(token) + 1) * 1000 - Date.now();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
}

// Resolves once `count` callers have arrived: both tabs hold their 401 before either refreshes,
// the worst case of two tabs' timing, made certain rather than left to the scheduler.
function barrier(count) {
  let arrived = 0;
  let open;
  const opened = new Promise((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived === count) open();
    return opened;
  };
}

function tab(name, dialect, store, seen, bothGot401) {
  const instance = axios.create({ baseURL });
  instance.interceptors.request.use((request) => {
    request.headers.Authorization = `Bearer ${store.access}`;
    return request;
  });
  createAuthRefresh(instance, async (failedRequest) => {
    seen.first401.push(failedRequest.response.status);
    const used = store.refresh;
    seen.used.push(used);
    await bothGot401();
    try {
      const response = await dialect.refresh(used);
      const pair = dialect.pairOf(response.data);
      Object.assign(store, pair); // the shared store: the other tab reads it too
      seen.refreshes.push({ status: response.status, refresh: pair.refresh });
      failedRequest.response.config.headers.Authorization = `Bearer ${pair.access}`;
    } catch (error) {
      const response = error.response || {};
      seen.refreshes.push({ status: response.status, body: response.data });
      throw error;
    }
  });
  return { name, instance };
}

async function twoTabs(name) {
  const dialect = DIALECTS[name];
  const login = await dialect.login();
  const store = dialect.pairOf(login.data);
  await untilExpired(store.access);
  const seen = { first401: [], used: [], refreshes: [] };
  const bothGot401 = barrier(2);
  const tabs = ["a", "b"].map((n) => tab(n, dialect, store, seen, bothGot401));
  // Both tabs at the same moment: each gets its 401 and refreshes with the same token.
  const results = await Promise.allSettled(
    tabs.map((t) => t.instance.get(dialect.protectedPath)),
  );
  const statuses = results.map((r) =>
    r.status === "fulfilled" ? r.value.status : (r.reason.response || {}).status || String(r.reason),
  );
  // The login is alive afterwards: its current refresh token refreshes once more.
  let after;
  try {
    after = (await dialect.refresh(store.refresh)).status;
  } catch (error) {
    after = (error.response || {}).status;
  }
  const refreshTokens = seen.refreshes.map((r) => r.refresh).filter(Boolean);
  return {
    statuses,
    first401: seen.first401,
    refreshes: seen.refreshes.map((r) => ({ status: r.status, body: r.body })),
    // Both tabs refreshed with one token (the race really happened) ...
    sameUsedToken: seen.used.length === 2 && seen.used[0] === seen.used[1],
    // ... and both got the same successor (the login stays one chain).
    sameRefreshToken: refreshTokens.length === 2 && refreshTokens[0] === refreshTokens[1],
    afterwards: after,
  };
}

async function main() {
  // Both dialects at once: one wait for the access tokens to expire.
  const names = Object.keys(DIALECTS);
  const results = await Promise.all(names.map(twoTabs));
  const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
  process.stdout.write(JSON.stringify(report) + "\n");
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  },
);
