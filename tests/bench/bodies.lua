-- wrk: POST a different body per request, from a file of one a line
-- (BENCH_BODIES): either "<signature>\t<body>" (a signed webhook: the
-- signature goes in X-Hub-Signature-256) or the body alone, with the
-- headers in BENCH_HEADERS ("Name: value" lines; JSON by default).  Each
-- thread takes every n-th line, so no two requests share a body until the
-- file is used up (then it wraps: for webhooks, WhatsApp's ids repeat and
-- take the deduplicated path).
local lines = {}
local headers = { ["Content-Type"] = "application/json" }
local threads = 0
local me = 0
local i = 0

for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
	local k, v = line:match("^([^:]+):%s*(.*)$")
	if k then headers[k] = v end
end

function setup(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

function init(args)
	me = tid
	for line in io.lines(os.getenv("BENCH_BODIES")) do
		lines[#lines + 1] = line
	end
	i = me
end

function request()
	local line = lines[(i % #lines) + 1]
	i = i + (tonumber(os.getenv("BENCH_THREADS")) or 2)
	local sig, body = line:match("^(%x+)\t(.*)$")
	if not sig then
		return wrk.format("POST", nil, headers, line)
	end
	headers["X-Hub-Signature-256"] = "sha256=" .. sig
	return wrk.format("POST", nil, headers, body)
end

done = dofile(os.getenv("BENCH_DIR") .. "/summary.lua")
