-- POST /api/v1/accounts/check_token/ {"username": "userI"} with userI's own seeded token
-- (line I+1 of BENCH_TOKENS), as a service validating its caller's token would ask.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

prebuilt(function(i, token)
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  local body = '{"username": "user' .. (i - 1) .. '"}'
  return wrk.format("POST", "/api/v1/accounts/check_token/", headers, body)
end)
