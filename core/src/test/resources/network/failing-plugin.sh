#!/bin/sh
# A CNI plugin that refuses ADD with a CNI error object and accepts everything else.
case "$CNI_COMMAND" in
  ADD)
    cat >/dev/null
    echo '{"cniVersion":"1.0.0","code":7,"msg":"berth test plugin refuses ADD","details":"on purpose"}'
    exit 1
    ;;
  VERSION)
    echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'
    ;;
esac
exit 0
