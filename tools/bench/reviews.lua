-- tools/bench/reviews.lua - wrk body script: POSTs the AdmissionReviews
-- listed in $BENCH_BODIES ("path=file,path=file,..."), round robin, each
-- to its webhook path; $BENCH_CLOSE=1 adds "Connection: close", so every
-- request costs a new TLS connection (wrk resumes the TLS session when
-- the server issues tickets). $BENCH_DELAY_MS paces each connection: it
-- waits that long before each request (latency is counted from the send),
-- so latency can be read at a set load instead of at saturation.
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

-- defined only when pacing: with a delay() wrk schedules every request
-- through a timer, which would slow the saturating runs
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if pause > 0 then
  function delay()
    return pause
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
