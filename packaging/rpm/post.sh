# scalectl %post: the system user the systemd units run as, and a unit reload.
if ! getent passwd scalectl >/dev/null; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers /usr/lib/sysusers.d/scalectl.conf
    else
        useradd --system --user-group --home-dir /var/lib/scalectl --no-create-home \
            --shell /sbin/nologin --comment "scalectl scaling jobs" scalectl
    fi
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
fi
