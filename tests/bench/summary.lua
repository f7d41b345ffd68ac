-- Shared done(): one JSON line the orchestrator parses.
return function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    '{"requests":%d,"duration_us":%d,"status_errors":%d,' ..
	    '"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
	    '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
	    summary.requests, summary.duration, e.status, e.connect, e.read,
	    e.write, e.timeout, latency:percentile(50), latency:percentile(99),
	    latency.max))
end
