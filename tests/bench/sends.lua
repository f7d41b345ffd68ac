-- wrk: POST a different JSON body per request, from a file of one body a
-- line (BENCH_BODIES), with the headers in BENCH_HEADERS ("Name: value"
-- lines).  Each thread takes every n-th line and wraps at the end.
local lines = {}
local threads = 0
local me = 0
local i = 0
local headers = {}

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
	local body = lines[(i % #lines) + 1]
	i = i + (tonumber(os.getenv("BENCH_THREADS")) or 2)
	return wrk.format("POST", nil, headers, body)
end

done = dofile(os.getenv("BENCH_DIR") .. "/summary.lua")
