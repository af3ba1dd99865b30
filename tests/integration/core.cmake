# Collector core, end to end over loopback.
tt_add_script_test(transports transports.sh)
tt_add_script_test(install install.sh)
tt_add_script_test(softflowd_burst burst.sh)
tt_add_script_test(sflow_bind sflow_bind.sh)
tt_add_script_test(tcp_limits tcp_limits.sh)
