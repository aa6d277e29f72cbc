using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Server;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// Keeps host drivers off the ports whose devices are shared: the ports a profile reserves for sharing
/// (usbip.server.claimPorts, <see cref="Reserve"/>) and the ports of devices exported now. While such a port has no
/// device on usbip-host, the keeper holds it claimed (<see cref="HubPortClaim"/>), so a device plugged there stays
/// unconfigured and no interface driver binds. When a device arrives on a held or reserved port it is exported in the
/// one order the kernel allows: match_busid add, unbind from "usb", release the claim, bind usbip-host (whose probe
/// claims the port itself). <see cref="Reconcile"/> does one round; <see cref="Start"/> runs rounds on each USB
/// uevent and at least every <see cref="FallbackInterval"/>.
/// </summary>
/// <remarks>
/// A device whose export was removed behind the keeper's back while it stayed plugged in is no longer followed: taking
/// it back would undo what someone just asked for. On a reserved port it is exported again: the profile says so.
/// An export removed through the keeper (<see cref="Unexport"/>) on a reserved port keeps the port claimed: the device
/// stays there unconfigured, away from host drivers and not exported again, until it is unplugged.
/// </remarks>
public sealed class ClaimedPortKeeper : IDisposable
{
    public static readonly TimeSpan FallbackInterval = TimeSpan.FromSeconds(1);

    private readonly SystemRoot _root;
    private readonly Action<string> _log;
    private readonly UsbDeviceReader _devices;
    private readonly UsbIpHostReader _host;
    private readonly UsbIpExporter _exporter;
    private readonly object _sync = new();
    private readonly Dictionary<UsbBusId, HubPortClaim> _claims = new();
    private readonly HashSet<UsbBusId> _following = new();
    private readonly Dictionary<string, string> _lastProblem = new(StringComparer.Ordinal);
    /// <summary>Devices unexported through <see cref="Unexport"/> on a reserved port, by bus id: their device number, which a replug changes.</summary>
    private readonly Dictionary<UsbBusId, int?> _withheld = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private HashSet<UsbBusId> _reserved = new();
    private UeventListener? _listener;
    private ClaimedPortControlListener? _control;
    private Task? _loop;

    public ClaimedPortKeeper(SystemRoot root, Action<string> log)
    {
        _root = root;
        _log = log;
        _devices = new UsbDeviceReader(root);
        _host = new UsbIpHostReader(_devices);
        _exporter = new UsbIpExporter(root);
    }

    /// <summary>The bus ids whose ports the keeper holds claimed now, in bus and port order.</summary>
    public IReadOnlyList<UsbBusId> Held
    {
        get
        {
            lock (_sync) return _claims.Keys.Order().ToList();
        }
    }

    /// <summary>The ports reserved for sharing (bus ids such as 1-2.3), in place of the ones before.</summary>
    public void Reserve(IEnumerable<UsbBusId> busIds)
    {
        lock (_sync)
        {
            var next = busIds.ToHashSet();
            foreach (var dropped in _reserved.Except(next).Where(b => !_following.Contains(b)).ToList()) HandBack(dropped);
            _reserved = next;
        }
        Wake();
    }

    /// <summary>Whether this port is reserved for sharing (<see cref="Reserve"/>): its device's export is removed through <see cref="Unexport"/>.</summary>
    public bool Reserves(UsbBusId busId)
    {
        lock (_sync) return _reserved.Contains(busId);
    }

    /// <summary>
    /// Removes an export as <see cref="UsbIpExporter.Remove"/> does. On a reserved port the port is claimed again
    /// between usbip-host's unbind and the reprobe, so the device stays unconfigured and no host driver binds; it
    /// is not exported again until it is unplugged. Any other port is handed back to the host's drivers.
    /// </summary>
    public UsbDevice? Unexport(UsbIpExportPlan plan, bool force = false, Action<string>? warn = null)
    {
        lock (_sync)
        {
            var busId = plan.BusId;
            _following.Remove(busId);
            if (!_reserved.Contains(busId)) return _exporter.Remove(plan, force, warn);
            var device = _exporter.Remove(plan, force, warn, new UsbIpPortHandover(() => Release(busId), () => Claim(busId)));
            if (device is not null)
            {
                _withheld[busId] = device.DeviceNumber;
                _log($"{busId}: no longer exported; its port stays claimed, so the device stays unconfigured until it is unplugged.");
            }
            return device;
        }
    }

    /// <summary>One round: every reserved or exported port claimed, or its device exported.</summary>
    public void Reconcile()
    {
        lock (_sync)
        {
            foreach (var bound in _host.GetBoundBusIds()) _following.Add(bound);
            foreach (var busId in _reserved.Union(_following).Order().ToList()) Keep(busId);
        }
    }

    /// <summary>
    /// Runs <see cref="Reconcile"/> on each USB uevent and at least every <see cref="FallbackInterval"/>. Only the live
    /// root listens to uevents: another root's devices change when a test or sandbox says, not when this kernel's do.
    /// Removals asked for by other processes (Remove-UsbIpExport in another shell) arrive through
    /// <see cref="ClaimedPortControlListener"/>.
    /// </summary>
    public void Start()
    {
        _control = ClaimedPortControlListener.TryStart(_root, this, _log);
        if (_root.IsLive) _listener = new UeventListener(NetlinkUeventChannel.Open, Wake, _log);
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _listener?.Listen();
                try { Reconcile(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or VirtToolsException)
                {
                    lock (_sync) Say("round", $"a round of port claims failed: {e.Message}");
                }
                try { await _wake.WaitAsync(FallbackInterval, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        });
    }

    private void Wake()
    {
        try { if (_wake.CurrentCount == 0) _wake.Release(); }
        catch (SemaphoreFullException) { /* already awake */ }
        catch (ObjectDisposedException) { /* stopped: a late uevent wakes nobody */ }
    }

    private void Keep(UsbBusId busId)
    {
        var device = _devices.Find(busId);
        if (device is null)
        {
            // Nothing plugged in (or usbip-host just let go on unplug): hold the port before anything arrives.
            _withheld.Remove(busId);
            if (!_claims.ContainsKey(busId)) Claim(busId);
            return;
        }
        if (device.IsExported) return; // usbip-host holds the port itself
        if (_withheld.TryGetValue(busId, out var number))
        {
            if (number == device.DeviceNumber) return; // unexported through the keeper: stays unconfigured
            _withheld.Remove(busId); // replugged between two rounds: a new arrival
        }
        if (_claims.ContainsKey(busId) || _reserved.Contains(busId))
        {
            Share(busId);
            return;
        }
        _following.Remove(busId);
        _log($"{busId}: no longer exported while plugged in (someone removed the export); its port is left alone.");
    }

    /// <summary>A device on a kept port: export it, releasing the claim only for usbip-host's own probe.</summary>
    private void Share(UsbBusId busId)
    {
        try
        {
            var plan = _exporter.PlanExport(busId);
            _exporter.Export(plan, new UsbIpPortHandover(() => Release(busId), () => Claim(busId)));
            _following.Add(busId);
            _lastProblem.Remove(busId.ToString());
            _log($"{busId}: arrived on a claimed port and is exported (usbip-host holds the port now).");
        }
        catch (VirtToolsException failure)
        {
            if (!_claims.ContainsKey(busId)) Claim(busId);
            Say(busId.ToString(), $"{busId}: could not be exported: {failure.Message} [{failure.ErrorId}]");
        }
    }

    private void Claim(UsbBusId busId)
    {
        try
        {
            _claims[busId] = HubPortClaim.Acquire(_root, busId, _devices);
            _lastProblem.Remove(busId.ToString());
            _log($"{busId}: port claimed ({_claims[busId]}); host drivers stay off a device plugged there.");
        }
        catch (VirtToolsException failure)
        {
            Say(busId.ToString(), $"{busId}: cannot claim its port: {failure.Message} [{failure.ErrorId}]");
        }
    }

    private void Release(UsbBusId busId)
    {
        if (_claims.Remove(busId, out var claim)) claim.Release();
    }

    /// <summary>
    /// Gives a port up. Releasing does not reconfigure a device left unconfigured by the claim, so it is
    /// re-authorized (authorized 0 then 1): the generic driver chooses a configuration and host drivers bind.
    /// </summary>
    private void HandBack(UsbBusId busId)
    {
        if (!_claims.Remove(busId, out var claim)) return;
        try { claim.Release(); }
        catch (VirtToolsException failure) { Say(busId.ToString(), $"{busId}: {failure.Message}"); }
        if (_devices.Find(busId) is { PortClaimed: true, IsExported: false })
        {
            try
            {
                SysfsWriter.Write(_root, $"{UsbDeviceReader.DevicesPath}/{busId}/authorized", "0");
                SysfsWriter.Write(_root, $"{UsbDeviceReader.DevicesPath}/{busId}/authorized", "1");
                _log($"{busId}: port released and the device handed back to the host's drivers.");
                return;
            }
            catch (VirtToolsException failure)
            {
                Say(busId.ToString(), $"{busId}: port released, but the device stays unconfigured: {failure.Message} (echo 0 and then 1 to its authorized file hands it back).");
                return;
            }
        }
        _log($"{busId}: port released.");
    }

    /// <summary>Logs a problem once until it changes, so a port that cannot be claimed does not fill the log every round.</summary>
    private void Say(string key, string message)
    {
        if (_lastProblem.TryGetValue(key, out var last) && last == message) return;
        _lastProblem[key] = message;
        _log(message);
    }

    /// <summary>Stops the rounds and gives every held port back (a device left unconfigured is handed to the host's drivers).</summary>
    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _control?.Dispose();
        try { _loop?.Wait(TimeSpan.FromSeconds(10)); }
        catch (AggregateException) { /* the loop ends on its own */ }
        _listener?.Dispose();
        lock (_sync)
            foreach (var busId in _claims.Keys.ToList()) HandBack(busId);
        _wake.Dispose();
        _stop.Dispose();
    }
}
