-- GET /user/<id>/ (the directory dialect's user record) with userI's own seeded token (line
-- I+1 of BENCH_TOKENS) for userI's own record (id I+1): a user may read their own record
-- whatever AUTHGATE_USER_RECORDS_VISIBILITY says.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

prebuilt(function(i, token)
  return wrk.format("GET", "/user/" .. i .. "/", { ["Authorization"] = "Token " .. token })
end)
