-- wrk script: sends DEPTH pipelined `GET /` requests in one write, then waits for all DEPTH
-- replies before sending the next batch (wrk counts every reply as a request; its latency figures
-- are per batch). Usage: wrk -s bench/pipeline.lua URL -- [DEPTH]   (default 16)
local batch

init = function(args)
  local depth = tonumber(args[1] or "16") or 16
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format("GET", "/")
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
