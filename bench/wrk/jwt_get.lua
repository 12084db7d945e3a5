-- GET BENCH_PATH with `Authorization: Bearer <JWT>`, a random one of the access tokens that
-- run.py minted (BENCH_TOKENS: one per line, line I+1 for userI): authgate's
-- /u/api/secure_test/ or the reference's SimpleJWT-guarded /jwt-whoami/ (jwt_get), or
-- authgate's /auth/users/me/ with the djoser dialect's `jwt` scheme (me_jwt).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH")

prebuilt(function(i, token)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end)
