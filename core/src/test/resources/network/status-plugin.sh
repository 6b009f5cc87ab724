#!/bin/sh
# A spec 1.1 CNI plugin whose STATUS fails while the marker file exists.
case "$CNI_COMMAND" in
  STATUS)
    cat >/dev/null
    if [ -e "@MARKER@" ]; then
      echo '{"cniVersion":"1.1.0","code":50,"msg":"berth test plugin is not ready","details":"marker present"}'
      exit 1
    fi
    ;;
esac
exit 0
