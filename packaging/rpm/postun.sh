# scalectl %postun: forget the removed units; the scalectl user is kept.
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
fi
