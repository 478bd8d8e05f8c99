-- bench/http_commit.lua: wrk script for POST /v1/transactions.
-- Usage: wrk ... -s http_commit.lua URL -- CARTS.jsonl TOKEN
-- Each request carries a new transaction_id (thread id + counter), so
-- every one is a real checkout, never an idempotent replay.
local carts = {}
local headers = {}
local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[2],
  }
  for line in io.lines(args[1]) do
    carts[#carts + 1] = line
  end
end

function request()
  counter = counter + 1
  local cart = carts[counter % #carts + 1]
  local id = string.format('"transaction_id":"bench-%d-%d"', thread_id,
                           counter)
  return wrk.format("POST", nil, headers,
                    cart:gsub('"transaction_id":"[^"]*"', id, 1))
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
