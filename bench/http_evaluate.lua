-- bench/http_evaluate.lua: wrk script for POST /v1/cart/evaluate.
-- Usage: wrk ... -s http_evaluate.lua URL -- CARTS.jsonl TOKEN
-- Every request is formatted once, in init; request() only rotates
-- through them, so the client spends its CPU on the socket, not on Lua.
local requests = {}
local next_index = 1

function init(args)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[2],
  }
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("POST", nil, headers, line)
  end
  next_index = math.random(#requests)
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function response(status, headers, body)
  if status ~= 200 then
    wrk.thread:stop()
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
