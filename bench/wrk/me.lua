-- GET /auth/users/me/ with a random one of the seeded tokens (BENCH_TOKENS: one per line).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

prebuilt(function(_, token)
  return wrk.format("GET", "/auth/users/me/", { ["Authorization"] = "Token " .. token })
end)
