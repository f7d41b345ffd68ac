-- wrk: POST a different pre-signed body per request, from a file of lines
-- "<signature>\t<body>" (BENCH_BODIES).  Each thread takes every n-th line,
-- so no two requests share a body until the file is used up (then it wraps
-- and WhatsApp's ids repeat: the deduplicated path).
local lines = {}
local threads = 0
local me = 0
local i = 0

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
	local n = #lines
	local line = lines[(i % n) + 1]
	i = i + (tonumber(os.getenv("BENCH_THREADS")) or 2)
	local sig, body = line:match("^([^\t]+)\t(.*)$")
	return wrk.format("POST", nil, {
		["Content-Type"] = "application/json",
		["X-Hub-Signature-256"] = "sha256=" .. sig,
	}, body)
end

done = dofile(os.getenv("BENCH_DIR") .. "/summary.lua")
