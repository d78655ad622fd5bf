#!/bin/sh
# Compress application logs older than a day and delete those older than 30 days.
find /var/log/acme -name '*.log' -mtime +1 -exec gzip {} \;
find /var/log/acme -name '*.gz' -mtime +30 -delete
