#!/bin/sh
# Fake k3s installer: places a fake k3s binary (unless INSTALL_K3S_SKIP_DOWNLOAD), the service unit and the
# uninstall script under $CHARON_ROOT, "starts" the service, and on servers writes the admin kubeconfig.
# FAKE_INSTALLER_FAIL=1: stops after placing the binary and the uninstall script (an interrupted install).
set -eu
. "$FAKE_BIN/_log.sh"
fake_log "installer version=${INSTALL_K3S_VERSION:-} exec=${INSTALL_K3S_EXEC:-} skip-download=${INSTALL_K3S_SKIP_DOWNLOAD:-false}"
root="${CHARON_ROOT:?}"
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/etc/rancher/k3s"
if [ "${INSTALL_K3S_SKIP_DOWNLOAD:-}" = true ]; then
    [ -x "$root/usr/local/bin/k3s" ] || { echo "[ERROR] no k3s binary placed" >&2; exit 1; }
else
    sed "s/@VERSION@/${INSTALL_K3S_VERSION}/" "$FAKE_BIN/../k3s-binary.sh" >"$root/usr/local/bin/k3s"
    chmod 0755 "$root/usr/local/bin/k3s"
fi
case "${INSTALL_K3S_EXEC:-server}" in
    agent) service=k3s-agent uninstaller=k3s-agent-uninstall.sh ;;
    *) service=k3s uninstaller=k3s-uninstall.sh ;;
esac
cat >"$root/usr/local/bin/$uninstaller" <<UNINSTALL
#!/bin/sh
. "\$FAKE_BIN/_log.sh"
fake_log "$uninstaller"
rm -rf "$root/usr/local/bin/k3s" "$root/etc/systemd/system/$service.service" "$root/etc/rancher/k3s" "$root/usr/local/bin/$uninstaller"
rm -f "\$FAKE_STATE/active-$service"
UNINSTALL
chmod 0755 "$root/usr/local/bin/$uninstaller"
# Like the real install.sh: the uninstall script exists before the service unit.
if [ "${FAKE_INSTALLER_FAIL:-}" = 1 ]; then echo "[ERROR] fake installer interrupted" >&2; exit 1; fi
echo "[Unit]" >"$root/etc/systemd/system/$service.service"
touch "$FAKE_STATE/active-$service"
if [ "$service" = k3s ]; then
    printf 'apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ZmFrZQ==\n    server: https://127.0.0.1:6443\n  name: default\nkind: Config\n' >"$root/etc/rancher/k3s/k3s.yaml"
    chmod 0600 "$root/etc/rancher/k3s/k3s.yaml"
fi
echo "[INFO]  fake install of k3s ${INSTALL_K3S_VERSION:-} done"
