-- GET /auth/users/me/ with a browser session cookie: a random one of the sessions that
-- seed_authgate.py opened (BENCH_TOKENS: one cookie value per line), in the cookie named
-- BENCH_COOKIE (`authgate_session`: plain HTTP). A GET needs no X-CSRFToken.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local cookie = os.getenv("BENCH_COOKIE")

prebuilt(function(i, value)
  return wrk.format("GET", "/auth/users/me/", { ["Cookie"] = cookie .. "=" .. value })
end)
