# Collector core, end to end over loopback.
tt_add_script_test(transports transports.sh)
