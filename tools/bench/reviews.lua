-- tools/bench/reviews.lua - wrk body script: POSTs the AdmissionReviews
-- listed in $BENCH_BODIES ("path=file,path=file,..."), round robin, each
-- to its webhook path; $BENCH_CLOSE=1 adds "Connection: close", so every
-- request costs a new TLS handshake (wrk does not resume sessions).
-- done() prints one line the runner parses:
--   RESULT <requests/s> <p50 us> <p99 us> <p99.9 us> <errors>

local requests = {}
local i = 0

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  if os.getenv("BENCH_CLOSE") == "1" then
    headers["Connection"] = "close"
  end
  for spec in string.gmatch(os.getenv("BENCH_BODIES"), "[^,]+") do
    local path, file = string.match(spec, "([^=]+)=(.+)")
    local f = assert(io.open(file, "rb"))
    local body = f:read("*a")
    f:close()
    requests[#requests + 1] = wrk.format("POST", path, headers, body)
  end
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect + e.read + e.write + e.status + e.timeout))
end
