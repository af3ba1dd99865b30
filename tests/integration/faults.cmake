# SPDX-License-Identifier: BSD-2-Clause
# Time policy and faults (robustness issue, items 4 and 5), against the running daemon.
tt_add_script_test(timepolicy timepolicy.sh)
tt_add_script_test(clockjump clockjump.sh)
foreach(_s exporter corrupt geoip rrdcached diskfull)
  tt_add_script_test(faults_${_s} faults.sh ${_s})
endforeach()
tt_add_script_test(reload_sensor reload_sensor.sh)
tt_add_script_test(reload_time reload_time.sh)
