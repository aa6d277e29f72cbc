using System.Globalization;
using System.Text;
using VirtTools.Sysfs;

namespace VirtTools.Sandbox;

/// <summary>
/// usbip-host (drivers/usb/usbip/stub_main.c, stub_dev.c) and vhci_hcd (vhci_sysfs.c) as Linux 6.1 behaves:
/// <list type="bullet">
/// <item>match_busid "add &lt;busid&gt;" / "del &lt;busid&gt;": the busid is everything after the verb, a trailing
///   newline included (usbip writes none, and a busid with one never matches a device); EINVAL under 5 bytes or for a
///   busid of 32 bytes or more or another verb; ENOMEM when the 16-entry table is full; ENODEV deleting an unknown busid.</item>
/// <item>Each entry has stub_main.c's status: "add" makes it ADDED, a usbip-host probe ALLOC, unbinding usbip-host
///   ADDED again, rebind OTHER. "del" clears only an OTHER entry and marks an ALLOC one REMOV; an ADDED entry (never
///   bound, or unbound) stays listed. A kernel without the rebind attribute had the plain table, where "del" clears.</item>
/// <item>usbip-host/bind: ENODEV unless the busid is in the table (and not REMOV or OTHER), for a hub (bDeviceClass 09)
///   or a device on vhci ("bind loop"); EBUSY when another driver has it. Bound, the device shows usbip_status 1.</item>
/// <item>drivers_probe "busid": ENODEV for an unknown device; otherwise it "succeeds" whether or not a driver bound.
///   An unbound device goes to usbip-host when its entry would let it probe, else to the generic "usb" driver.</item>
/// <item>unbind from "usb" (the generic driver) takes the interface drivers with it; binding back to "usb" returns them.</item>
/// <item>usbip_sockfd: a fd while status is 1 makes it 2 (in use); -1 while 2 makes it 1; anything else EINVAL.</item>
/// <item>usbip-host/rebind: the buffer is the busid, newline and all; ENODEV unless in the table; marks it OTHER,
///   reprobes an unbound device (usbip-host skips OTHER, so "usb" takes it) and then deletes the entry.</item>
/// <item><see cref="FailProbe"/>: binding that driver fails with the errno, logged to dev/kmsg as really_probe logs it;
///   reprobes skip it silently.</item>
/// <item>Hub ports (<see cref="SandboxHubPorts"/>): usbip-host's probe claims the device's port and fails with EBUSY
///   when an open usbfs node holds it; the generic driver leaves a device on such a port unconfigured. Plugging,
///   unplugging and `authorized` are in SandboxUsbIp.Plugging.cs.</item>
/// <item>vhci_hcd.0/attach "port sockfd devid speed": EINVAL for bad fields, a port out of range or on the wrong hub
///   for the speed (5 and 6 = SuperSpeed hub; a speed the kernel does not know is logged to dev/kmsg, as
///   vhci_hcd's pr_err does); EBUSY when the port is in use. detach "port": EINVAL when free.
///   Mainline keeps both on vhci_hcd.0 with global port numbers; the per-controller (QVD) layout has them on every
///   vhci_hcd.N with that controller's own numbers, as its status file prints them.</item>
/// </list>
/// </summary>
public sealed partial class SandboxUsbIp
{
    public const string HostDriverName = "usbip-host";
    public const string HostDriver = "/sys/bus/usb/drivers/" + HostDriverName;
    public const int MaxBusIds = 16;
    public const string DriversProbe = "/sys/bus/usb/drivers_probe";
    private const string FreePort = "004";
    private const string UsedPort = "006";

    private readonly SandboxKernel _kernel;
    private readonly Dictionary<string, Dictionary<string, string>> _interfaceDrivers = new(StringComparer.Ordinal);
    private readonly HashSet<(string Controller, int Port)> _races = new();
    private readonly Dictionary<string, EntryStatus> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KernelErrno> _probeErrors = new(StringComparer.Ordinal);
    private bool _reprobeBindsNothing;

    /// <summary>stub.h's STUB_BUSID_*.</summary>
    private enum EntryStatus { Other, Removed, Added, Allocated }

    internal SandboxUsbIp(SandboxKernel kernel) => _kernel = kernel;

    // --- what a test reads back ---

    /// <summary>The match_busid table as the kernel lists it.</summary>
    public IReadOnlyList<string> MatchBusIds
    {
        get
        {
            var text = SysfsText.ReadFile(_kernel.Resolve(HostDriver + "/match_busid")) ?? "";
            return text.TrimEnd('\n').Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        }
    }

    public string? DriverOf(string busId) => Device(busId).LinkName("driver");

    /// <summary>usbip_status (1 available, 2 in use, 3 error); null when the device is not on usbip-host.</summary>
    public int? StatusOf(string busId) => Device(busId).Int("usbip_status");

    /// <summary>The status line of a vhci port, as `usbip port` parses it: a global number on mainline, the controller's own on the per-controller layout.</summary>
    public string? VhciPortLine(int port, int controller = 0) => FindPort(ControllerPath(controller), port) is { } found ? found.Lines[found.Index] : null;

    /// <summary>
    /// What attach does with the socket descriptor it was given, as sockfd_lookup takes the file from the writer's
    /// fd table; by default nothing (the number is only printed in the status line).
    /// </summary>
    public Action<int>? TakeSocket { get; set; }

    /// <summary>
    /// The next attach to <paramref name="port"/> (as the controller's files number it) loses a race: another
    /// attacher takes the port first, so the port shows in use and the write fails with EBUSY.
    /// </summary>
    public SandboxUsbIp RaceForPort(int port, int controller = 0)
    {
        _races.Add((ControllerPath(controller), port));
        return this;
    }

    /// <summary>
    /// vhci_hcd with <paramref name="controllers"/> controllers of <paramref name="portsPerHub"/> HighSpeed and as many
    /// SuperSpeed ports, all free, in the mainline or the per-controller layout; root hubs are buses 11, 12, 13...
    /// </summary>
    public SandboxUsbIp AddVhci(int controllers, int portsPerHub, bool perController = false)
    {
        for (int c = 0; c < controllers; c++)
        {
            var path = ControllerPath(c);
            for (int hub = 0; hub < 2; hub++)
            {
                var bus = 11 + 2 * c + hub;
                _kernel.Show($"{path}/usb{bus}/busnum", bus.ToString(CultureInfo.InvariantCulture) + "\n");
                _kernel.Show($"{path}/usb{bus}/speed", hub == 0 ? "480\n" : "5000\n");
            }
            int first = perController ? 0 : c * 2 * portsPerHub;
            var rows = Enumerable.Range(0, 2 * portsPerHub).Select(i =>
                string.Create(CultureInfo.InvariantCulture, $"{(i < portsPerHub ? "hs" : "ss")}  {first + i:D4} {FreePort} 000 00000000 000000 0-0\n"));
            var status = perController || c == 0 ? $"{path}/status" : $"{ControllerPath(0)}/status.{c}";
            _kernel.Show(status, "hub port sta spd dev      sockfd local_busid\n" + string.Concat(rows));
            if (!perController && c > 0) continue;
            _kernel.Control(path + "/attach");
            _kernel.Control(path + "/detach");
            _kernel.Show(path + "/nports", ((perController ? 2 : 2 * controllers) * portsPerHub).ToString(CultureInfo.InvariantCulture) + "\n");
        }
        return this;
    }

    /// <summary>Makes every probe by <paramref name="driver"/> fail with <paramref name="errno"/> (a device that will not configure).</summary>
    public SandboxUsbIp FailProbe(string driver, KernelErrno errno)
    {
        _probeErrors[driver] = errno;
        return this;
    }

    /// <summary>
    /// Reprobes (drivers_probe, rebind) succeed and bind nothing, while an explicit bind still works: a device whose
    /// driver took it only when told to, as after an admin bound it by hand.
    /// </summary>
    public SandboxUsbIp ReprobeBindsNothing()
    {
        _reprobeBindsNothing = true;
        return this;
    }

    /// <summary>Takes the rebind attribute away, as on kernels before it existed (and their plain match_busid table).</summary>
    public SandboxUsbIp WithoutRebind()
    {
        File.Delete(_kernel.Resolve(HostDriver + "/rebind"));
        return this;
    }

    // --- the kernel side of writes ---

    internal bool TryWrite(string systemPath, string text)
    {
        if (systemPath == HostDriver + "/match_busid") { _kernel.RequireAttribute(systemPath); MatchBusId(text); return true; }
        if (systemPath == HostDriver + "/rebind") { _kernel.RequireAttribute(systemPath); Rebind(text); return true; }
        if (systemPath == DriversProbe) { _kernel.RequireAttribute(systemPath); Reprobe(SandboxKernel.Token(text)); return true; }
        if (IsAuthorized(systemPath)) { _kernel.RequireAttribute(systemPath); Authorize(systemPath.Split('/')[5], SandboxKernel.Token(text)); return true; }
        if (IsVhciControl(systemPath, "attach")) { _kernel.RequireAttribute(systemPath); Attach(ParentOf(systemPath), text); return true; }
        if (IsVhciControl(systemPath, "detach")) { _kernel.RequireAttribute(systemPath); Detach(ParentOf(systemPath), text); return true; }
        if (systemPath.StartsWith("/sys/bus/usb/devices/", StringComparison.Ordinal) && systemPath.EndsWith("/usbip_sockfd", StringComparison.Ordinal))
        {
            _kernel.RequireAttribute(systemPath);
            SetSocket(systemPath.Split('/')[5], text);
            return true;
        }
        var parts = systemPath.Split('/');
        if (parts.Length == 7 && systemPath.StartsWith("/sys/bus/usb/drivers/", StringComparison.Ordinal) && parts[6] is "bind" or "unbind"
            && !SandboxKernel.Token(text).Contains(':'))
        {
            _kernel.RequireAttribute(systemPath);
            if (parts[6] == "bind") Bind(SandboxKernel.Token(text), parts[5]); else Unbind(SandboxKernel.Token(text), parts[5]);
            return true;
        }
        return false;
    }

    private void MatchBusId(string text)
    {
        if (Encoding.UTF8.GetByteCount(text) < 5) throw SandboxKernel.Errno(KernelErrno.EINVAL, "match_busid");
        var busId = text[4..];
        if (Encoding.UTF8.GetByteCount(busId) >= 32) throw SandboxKernel.Errno(KernelErrno.EINVAL, "match_busid");
        var table = MatchBusIdsVerbatim();
        if (text.StartsWith("add ", StringComparison.Ordinal))
        {
            if (table.Contains(busId)) return;
            if (table.Count >= MaxBusIds) throw SandboxKernel.Errno(KernelErrno.ENOMEM, "match_busid add " + busId);
            table.Add(busId);
            _entries[busId] = EntryStatus.Added;
        }
        else if (text.StartsWith("del ", StringComparison.Ordinal))
        {
            if (!table.Contains(busId)) throw SandboxKernel.Errno(KernelErrno.ENODEV, "match_busid del " + busId);
            var status = StatusOfEntry(busId);
            if (status == EntryStatus.Other || !File.Exists(_kernel.Resolve(HostDriver + "/rebind"))) Forget(table, busId);
            else if (status != EntryStatus.Added) _entries[busId] = EntryStatus.Removed;
        }
        else throw SandboxKernel.Errno(KernelErrno.EINVAL, "match_busid");
        ShowTable(table);
    }

    private void ShowTable(List<string> table) => _kernel.Show(HostDriver + "/match_busid", string.Concat(table.Select(b => b + " ")) + "\n");

    private void Forget(List<string> table, string busId)
    {
        table.Remove(busId);
        _entries.Remove(busId);
    }

    /// <summary>An entry's status; entries of the captured table are ALLOC when usbip-host holds the device, else ADDED.</summary>
    private EntryStatus StatusOfEntry(string busId) =>
        _entries.TryGetValue(busId, out var status) ? status : DriverOf(busId) == "usbip-host" ? EntryStatus.Allocated : EntryStatus.Added;

    /// <summary>What usbip-host's probe checks (stub_dev.c): an entry that is neither REMOV nor OTHER, not a hub, not on vhci.</summary>
    private bool UsbIpHostAccepts(string busId)
    {
        var device = Device(busId);
        return MatchBusIdsVerbatim().Contains(busId) && StatusOfEntry(busId) is EntryStatus.Added or EntryStatus.Allocated
            && device.String("bDeviceClass") != "09" && !device.Resolved().Path.Contains("/vhci_hcd.", StringComparison.Ordinal);
    }

    /// <summary>The table with each entry as written (a newline kept): kept beside the shown file so the trap stays visible.</summary>
    private List<string> MatchBusIdsVerbatim()
    {
        var text = SysfsText.ReadFile(_kernel.Resolve(HostDriver + "/match_busid")) ?? "\n";
        return text[..^1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private void Bind(string busId, string driver)
    {
        var device = Device(busId);
        if (!device.Exists) throw SandboxKernel.Errno(KernelErrno.ENODEV, $"{driver}/bind {busId}");
        if (driver == "usbip-host" && !UsbIpHostAccepts(busId)) throw SandboxKernel.Errno(KernelErrno.ENODEV, $"usbip-host/bind {busId}");
        if (DriverOf(busId) is not null) throw SandboxKernel.Errno(KernelErrno.EBUSY, $"{driver}/bind {busId}");
        if (_probeErrors.TryGetValue(driver, out var errno))
        {
            // really_probe: a probe that matched and failed is a warning in the log; ENODEV/ENXIO ("not mine") is silent.
            if (errno is not (KernelErrno.ENODEV or KernelErrno.ENXIO))
                _kernel.LogError(string.Create(CultureInfo.InvariantCulture, $"{driver}: probe of {busId} failed with error -{(int)errno}"));
            throw SandboxKernel.Errno(errno, $"{driver} probe of {busId}");
        }
        if (driver == HostDriverName && _kernel.HubPorts.IsClaimedByUserspace(busId)) throw SandboxKernel.Errno(KernelErrno.EBUSY, $"usbip-host cannot claim the port of {busId}");
        AttachDriver(busId, driver);
    }

    private void Unbind(string busId, string driver)
    {
        if (DriverOf(busId) != driver) throw SandboxKernel.Errno(KernelErrno.ENODEV, $"{driver}/unbind {busId}");
        var device = Device(busId).Resolved().Path;
        _kernel.Unlink(device + "/driver");
        _kernel.Unlink(_kernel.Resolve("/sys/bus/usb/drivers/" + driver + "/" + busId));
        if (driver == "usbip-host")
        {
            foreach (var attribute in new[] { "usbip_status", "usbip_sockfd", "usbip_debug" }) File.Delete(_kernel.Inside(device + "/" + attribute));
            if (StatusOfEntry(busId) == EntryStatus.Allocated) _entries[busId] = EntryStatus.Added;
        }
        if (driver != "usb") return;
        var remembered = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new SysfsDirectory(device).EntryNames().Where(n => n.StartsWith(busId + ":", StringComparison.Ordinal)))
        {
            if (new SysfsDirectory(device + "/" + name).LinkName("driver") is not { } interfaceDriver) continue;
            remembered[name] = interfaceDriver;
            _kernel.Unlink(device + "/" + name + "/driver");
            _kernel.Unlink(_kernel.Resolve("/sys/bus/usb/drivers/" + interfaceDriver + "/" + name));
        }
        // An unconfigured device has no interfaces to remember: what it had before stays remembered.
        if (remembered.Count > 0) _interfaceDrivers[busId] = remembered;
    }

    private void Rebind(string busId)
    {
        if (Encoding.UTF8.GetByteCount(busId) >= 32) throw SandboxKernel.Errno(KernelErrno.EINVAL, "rebind");
        var table = MatchBusIdsVerbatim();
        if (!table.Contains(busId)) throw SandboxKernel.Errno(KernelErrno.ENODEV, "rebind " + busId);
        _entries[busId] = EntryStatus.Other;
        Probe(busId);
        Forget(table, busId);
        ShowTable(table);
    }

    private void Reprobe(string busId)
    {
        if (!Device(busId).Exists) throw SandboxKernel.Errno(KernelErrno.ENODEV, "drivers_probe " + busId);
        Probe(busId);
    }

    /// <summary>device_attach: an unbound device goes to the first driver whose probe takes it; none is no error.</summary>
    private void Probe(string busId)
    {
        if (_reprobeBindsNothing) return;
        Attach(busId);
    }

    /// <summary>The probe of a device with no driver: usbip-host when its table and the port let it, else the generic driver.</summary>
    private void Attach(string busId)
    {
        if (DriverOf(busId) is not null) return;
        var candidates = UsbIpHostAccepts(busId) && !_kernel.HubPorts.IsClaimedByUserspace(busId) ? new[] { "usbip-host", "usb" } : new[] { "usb" };
        var driver = candidates.FirstOrDefault(d => !_probeErrors.ContainsKey(d));
        if (driver is not null) AttachDriver(busId, driver);
    }

    private void AttachDriver(string busId, string driver)
    {
        var device = Device(busId).Resolved().Path;
        _kernel.Link(device + "/driver", _kernel.Resolve("/sys/bus/usb/drivers/" + driver));
        _kernel.Link(_kernel.Resolve("/sys/bus/usb/drivers/" + driver + "/" + busId), device);
        if (driver == "usbip-host")
        {
            _entries[busId] = EntryStatus.Allocated;
            File.WriteAllText(_kernel.Inside(device + "/usbip_status"), "1\n");
            File.WriteAllText(_kernel.Inside(device + "/usbip_sockfd"), "");
            File.WriteAllText(_kernel.Inside(device + "/usbip_debug"), "0\n");
        }
        if (driver == "usb") ChooseConfiguration(busId);
    }

    /// <summary>The interface drivers return when the generic driver configures the device again.</summary>
    private void RestoreInterfaceDrivers(string busId)
    {
        var device = Device(busId).Resolved().Path;
        if (_interfaceDrivers.Remove(busId, out var interfaces))
            foreach (var (name, interfaceDriver) in interfaces)
            {
                _kernel.Link(device + "/" + name + "/driver", _kernel.Resolve("/sys/bus/usb/drivers/" + interfaceDriver));
                _kernel.Link(_kernel.Resolve("/sys/bus/usb/drivers/" + interfaceDriver + "/" + name), device + "/" + name);
            }
    }

    private void SetSocket(string busId, string text)
    {
        if (!int.TryParse(SandboxKernel.Token(text), NumberStyles.Integer, CultureInfo.InvariantCulture, out var fd))
            throw SandboxKernel.Errno(KernelErrno.EINVAL, "usbip_sockfd");
        var status = StatusOf(busId);
        int next = (fd, status) switch
        {
            ( >= 0, 1) => 2,
            (-1, 2) => 1,
            _ => throw SandboxKernel.Errno(KernelErrno.EINVAL, $"usbip_sockfd {fd} with usbip_status {status}"),
        };
        File.WriteAllText(_kernel.Inside(Device(busId).Resolved().Path + "/usbip_status"), next.ToString(CultureInfo.InvariantCulture) + "\n");
    }

    private void Attach(string controller, string text)
    {
        var fields = SandboxKernel.Token(text).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = fields.Select(f => uint.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (uint?)null).ToList();
        if (values.Count != 4 || values.Any(v => v is null)) throw SandboxKernel.Errno(KernelErrno.EINVAL, "attach " + text.Trim());
        int port = (int)values[0]!.Value, speed = (int)values[3]!.Value;
        var found = FindPort(controller, port) ?? throw SandboxKernel.Errno(KernelErrno.EINVAL, $"attach: no port {port}");
        bool superSpeedPort = found.Lines[found.Index].StartsWith("ss", StringComparison.Ordinal);
        if (speed is < 1 or > 6)
        {
            _kernel.LogError("vhci_hcd: Failed attach request for unsupported USB speed: UNKNOWN");
            throw SandboxKernel.Errno(KernelErrno.EINVAL, $"attach: speed {speed}");
        }
        if ((speed >= 5) != superSpeedPort) throw SandboxKernel.Errno(KernelErrno.EINVAL, $"attach: speed {speed} on port {port}");
        if (_races.Remove((controller, port))) Connect(found, controller, port, 3, 0x00090009, 99);
        if (Field(found, 2) != FreePort) throw SandboxKernel.Errno(KernelErrno.EBUSY, $"attach: port {port} in use");
        TakeSocket?.Invoke((int)values[1]!.Value);
        Connect(found, controller, port, speed, values[2]!.Value, values[1]!.Value);
    }

    /// <summary>Shows a device on the port as the kernel prints it once the port is through its reset.</summary>
    private void Connect(PortLocation found, string controller, int port, int speed, uint devid, uint sockfd)
    {
        var superSpeed = found.Lines[found.Index].StartsWith("ss", StringComparison.Ordinal);
        int perController = PortsPerController(controller);
        var localBusId = $"{HubBusNumber(IndexOf(controller) + port / perController, superSpeed)}-{port % perController % (perController / 2) + 1}";
        found.Lines[found.Index] = string.Create(CultureInfo.InvariantCulture,
            $"{(superSpeed ? "ss" : "hs")}  {port:D4} {UsedPort} {speed:D3} {devid:x8} {sockfd:D6} {localBusId}");
        found.Save();
    }

    private void Detach(string controller, string text)
    {
        if (!int.TryParse(SandboxKernel.Token(text), NumberStyles.None, CultureInfo.InvariantCulture, out var port)) throw SandboxKernel.Errno(KernelErrno.EINVAL, "detach");
        var found = FindPort(controller, port) ?? throw SandboxKernel.Errno(KernelErrno.EINVAL, $"detach: no port {port}");
        if (Field(found, 2) == FreePort) throw SandboxKernel.Errno(KernelErrno.EINVAL, $"detach: port {port} is not connected");
        var hub = found.Lines[found.Index][..2];
        found.Lines[found.Index] = string.Create(CultureInfo.InvariantCulture, $"{hub}  {port:D4} {FreePort} 000 00000000 000000 0-0");
        found.Save();
    }

    private static string Field(PortLocation found, int index) => found.Lines[found.Index].Split(' ', StringSplitOptions.RemoveEmptyEntries)[index];

    /// <summary>Ports per controller: nports counts every controller on mainline (one status file each), only its own on the per-controller layout.</summary>
    private int PortsPerController(string controller) =>
        new SysfsDirectory(_kernel.Resolve(controller)).Int("nports") is int total ? total / StatusFiles(controller).Count : 0;

    private List<string> StatusFiles(string controller) =>
        new SysfsDirectory(_kernel.Resolve(controller)).EntryNames().Where(n => n == "status" || n.StartsWith("status.", StringComparison.Ordinal)).ToList();

    private PortLocation? FindPort(string controller, int port)
    {
        foreach (var file in StatusFiles(controller))
        {
            var path = _kernel.Inside(_kernel.Resolve(controller + "/" + file));
            var lines = File.ReadAllText(path).TrimEnd('\n').Split('\n');
            for (int i = 1; i < lines.Length; i++)
            {
                var fields = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p == port)
                    return new PortLocation(path, lines, i);
            }
        }
        return null;
    }

    private static bool IsVhciControl(string systemPath, string name) =>
        systemPath.StartsWith("/sys/devices/platform/vhci_hcd.", StringComparison.Ordinal) && systemPath.EndsWith("/" + name, StringComparison.Ordinal)
        && systemPath.Count(c => c == '/') == 5;

    private static string ParentOf(string systemPath) => systemPath[..systemPath.LastIndexOf('/')];

    private static int IndexOf(string controller) => int.Parse(controller[(controller.LastIndexOf('.') + 1)..], CultureInfo.InvariantCulture);

    private static string ControllerPath(int index) => "/sys/devices/platform/vhci_hcd." + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The bus number of controller N's HighSpeed or SuperSpeed root hub (the usbX directory below vhci_hcd.N).</summary>
    private int HubBusNumber(int controller, bool superSpeed)
    {
        var platform = new SysfsDirectory(_kernel.Resolve("/sys/devices/platform/vhci_hcd." + controller.ToString(CultureInfo.InvariantCulture)));
        foreach (var hub in platform.EntryNames().Where(n => n.StartsWith("usb", StringComparison.Ordinal)).Select(platform.Child))
            if ((hub.Int("speed") >= 5000) == superSpeed && hub.Int("busnum") is int busNumber) return busNumber;
        return 0;
    }

    private SysfsDirectory Device(string busId) => new(_kernel.Resolve("/sys/bus/usb/devices/" + busId));

    private sealed record PortLocation(string Path, string[] Lines, int Index)
    {
        /// <summary>
        /// Replaces the status file whole, as a read of the kernel's sees one consistent table: an attacher reading
        /// it while another attaches must never see it half written.
        /// </summary>
        public void Save()
        {
            var next = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "." + System.IO.Path.GetFileName(Path) + ".next");
            File.WriteAllText(next, string.Join('\n', Lines) + "\n");
            File.Move(next, Path, overwrite: true);
        }
    }
}
