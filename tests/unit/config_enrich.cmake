# SPDX-License-Identifier: BSD-2-Clause
# Configuration, sensors, GeoIP and traffic class (collector/config.c, sensor.c,
# geo.c, classify.c). test_geo runs tests/data/make_geoip.pl with /usr/bin/perl
# (Debian: libmaxmind-db-writer-perl) and skips when the module is missing.
tt_add_gtest(test_config ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
tt_add_gtest(test_sensor ${CMAKE_CURRENT_LIST_DIR}/test_sensor.c)
tt_add_gtest(test_geo ${CMAKE_CURRENT_LIST_DIR}/test_geo.c)
tt_add_gtest(test_classify ${CMAKE_CURRENT_LIST_DIR}/test_classify.c)
