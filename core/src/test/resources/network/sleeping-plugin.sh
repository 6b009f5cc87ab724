#!/bin/sh
# A CNI plugin whose ADD hangs (in a child process), to exercise the plugin timeout.
case "$CNI_COMMAND" in
  ADD)
    sleep 3607
    ;;
esac
exit 0
