-- POST /api/v1/accounts/check_token/ {"username": "userI"} with userI's own seeded token
-- (line I+1 of BENCH_TOKENS), as a service validating its caller's token would ask.
-- The requests are formatted once in init: building a body and headers per request in Lua
-- would make wrk, not the server, the bottleneck of this case.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local requests = {}

function init(args)
  seed_random()
  local tokens = read_lines(os.getenv("BENCH_TOKENS"))
  for i, token in ipairs(tokens) do
    local headers = {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json",
    }
    local body = '{"username": "user' .. (i - 1) .. '"}'
    requests[i] = wrk.format("POST", "/api/v1/accounts/check_token/", headers, body)
  end
end

function request()
  return requests[math.random(#requests)]
end
