using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Sandbox;

/// <summary>
/// The PCI bus as drivers/base/bus.c, drivers/pci/pci-driver.c and vfio-pci behave on Linux 6.1:
/// <list type="bullet">
/// <item>drivers/&lt;d&gt;/bind: ENODEV when the device is missing or the driver does not match it (driver_override
///   names another driver), EBUSY when it already has a driver, the probe's errno when the probe fails.</item>
/// <item>drivers/&lt;d&gt;/unbind: ENODEV unless the device is bound to that driver.</item>
/// <item>driver_override: one trailing newline stripped; empty clears it and a read shows "(null)".</item>
/// <item>drivers_probe: ENODEV for an unknown device; otherwise it "succeeds" whether or not any driver bound.
///   With driver_override only that driver matches; else dynamic ids (new_id) first, then the static id table.</item>
/// <item>new_id "vvvv dddd ...": EINVAL when unparsable, EEXIST when the driver already matches the id, then every
///   unbound matching device is probed; remove_id: ENODEV when the id was never added.</item>
/// <item>vfio-pci matches only through driver_override or new_id; its probe fails with EINVAL for a bridge (header
///   type not 0) or a device without an IOMMU group. /dev/vfio/&lt;group&gt; appears when the first member binds to
///   vfio-pci and goes when the last one leaves.</item>
/// <item>A driver that is not loaded has no drivers/&lt;d&gt; directory, so writes to it fail with ENOENT.</item>
/// </list>
/// </summary>
public sealed class SandboxPciBus
{
    public const string Bus = "/sys/bus/pci";
    public const string Vfio = "vfio-pci";

    private readonly SandboxKernel _kernel;
    private readonly Dictionary<string, PciDriverModel> _drivers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deferredAddresses = new(StringComparer.Ordinal);
    private readonly List<string> _pendingProbes = new();
    private readonly ManualResetEventSlim _probeDeferred = new();

    /// <summary>The static id tables of the drivers in the captured tree, as their modules declare them.</summary>
    private static readonly Dictionary<string, PciIdMatch[]> KnownTables = new(StringComparer.Ordinal)
    {
        ["e1000"] = new[] { PciIdMatch.Parse("8086:100e"), PciIdMatch.Parse("8086:100f") },
        ["e1000e"] = new[] { PciIdMatch.Parse("8086:10d3") },
        ["virtio-pci"] = new[] { PciIdMatch.Parse("1af4:*") },
        ["xhci_hcd"] = new[] { PciIdMatch.ForClass(0x0c0330) },
        ["ahci"] = new[] { PciIdMatch.ForClass(0x010601) },
        ["i801_smbus"] = new[] { PciIdMatch.Parse("8086:2930") },
        [Vfio] = new[] { PciIdMatch.OverrideOnly },
    };

    internal SandboxPciBus(SandboxKernel kernel)
    {
        _kernel = kernel;
        if (!Directory.Exists(kernel.Resolve(Bus))) return;
        foreach (var name in EntryNames(Bus + "/drivers")) AdoptDriver(name);
        PrepareBus();
        // A driver whose id table is not known here (a snapshot of another host) matches at least the devices it
        // holds when the sandbox is opened, so giving one back through drivers_probe finds it again.
        foreach (var address in Addresses())
            if (DriverOf(address) is { } driver && !KnownTables.ContainsKey(driver) && _drivers.TryGetValue(driver, out var model))
                model.StaticIds.Add(new PciIdMatch(Read(address).Vendor, Read(address).Device, null, false));
        foreach (var address in Addresses())
            if (DriverOf(address) == Vfio) OpenVfioGroup(address);
    }

    // --- builders ---

    /// <summary>Loads a driver: its drivers/ directory with bind, unbind, new_id, remove_id and a static id table ("8086:100e", "1af4:*").</summary>
    public SandboxPciBus AddDriver(string name, params string[] ids)
    {
        PrepareBus();
        Directory.CreateDirectory(_kernel.Resolve(DriverPath(name)));
        var model = AdoptDriver(name);
        model.StaticIds.AddRange(ids.Select(PciIdMatch.Parse));
        return this;
    }

    /// <summary>Unloads a driver (modprobe -r): its directory goes. Devices must be unbound first, as the kernel unbinds them.</summary>
    public SandboxPciBus RemoveDriver(string name)
    {
        foreach (var address in Addresses().Where(a => DriverOf(a) == name)) Detach(address);
        Directory.Delete(_kernel.Resolve(DriverPath(name)), recursive: true);
        _drivers.Remove(name);
        return this;
    }

    /// <summary>
    /// Adds a function under /sys/devices/pci0000:00 with its ids, class, header type (1 for a bridge), an IOMMU
    /// group (null: the IOMMU is off) and an optional driver it is bound to.
    /// </summary>
    public SandboxPciBus AddFunction(string address, string vendorId, string deviceId, int classCode, int? iommuGroup,
        string? driver = null, bool bridge = false)
    {
        PrepareBus();
        var device = "/sys/devices/pci" + address[..7] + "/" + address;
        _kernel.Show(device + "/vendor", "0x" + vendorId + "\n");
        _kernel.Show(device + "/device", "0x" + deviceId + "\n");
        _kernel.Show(device + "/class", "0x" + classCode.ToString("x6", CultureInfo.InvariantCulture) + "\n");
        var config = new byte[256];
        config[0x0e] = bridge ? (byte)1 : (byte)0;
        File.WriteAllBytes(_kernel.Resolve(device + "/config"), config);
        _kernel.Show(device + "/driver_override", "(null)\n");
        _kernel.Show(device + "/irq", "0\n");
        _kernel.Link(_kernel.Resolve(device + "/subsystem"), _kernel.Resolve(Bus));
        _kernel.Link(_kernel.Resolve(Bus + "/devices/" + address), _kernel.Resolve(device));
        if (iommuGroup is int group)
        {
            var groupPath = "/sys/kernel/iommu_groups/" + group.ToString(CultureInfo.InvariantCulture);
            Directory.CreateDirectory(_kernel.Resolve(groupPath + "/devices"));
            _kernel.Link(_kernel.Resolve(device + "/iommu_group"), _kernel.Resolve(groupPath));
            _kernel.Link(_kernel.Resolve(groupPath + "/devices/" + address), _kernel.Resolve(device));
        }
        if (driver is not null)
        {
            if (!_drivers.ContainsKey(driver)) AddDriver(driver);
            Attach(address, driver);
        }
        return this;
    }

    /// <summary>Makes every probe by <paramref name="driver"/> fail with <paramref name="errno"/> (firmware missing, device dead).</summary>
    public SandboxPciBus FailProbe(string driver, KernelErrno errno)
    {
        _drivers[driver].ProbeError = errno;
        return this;
    }

    /// <summary>
    /// Makes drivers_probe of <paramref name="address"/> asynchronous, as a driver that prefers asynchronous probing is:
    /// the write returns at once and the driver link appears only at <see cref="CompleteDeferredProbes"/>. Lets a test
    /// act (stop the pipeline) while a move is in progress.
    /// </summary>
    public SandboxPciBus DeferProbe(string address)
    {
        _deferredAddresses.Add(address);
        return this;
    }

    /// <summary>Waits until a deferred probe is pending; false when none came within <paramref name="timeout"/>.</summary>
    public bool WaitForDeferredProbe(TimeSpan timeout) => _probeDeferred.Wait(timeout);

    /// <summary>Finishes the pending probes: a device still unbound binds to the first driver that matches it now.</summary>
    public void CompleteDeferredProbes()
    {
        foreach (var address in _pendingProbes.ToList()) BindFirstMatch(address);
        _pendingProbes.Clear();
    }

    /// <summary>Binds as the kernel would at boot, without recording a write.</summary>
    public SandboxPciBus Bind(string address, string driver)
    {
        var error = TryBind(address, driver);
        if (error is not null) throw SandboxKernel.Errno(error.Value, $"bind {address} to {driver}");
        return this;
    }

    // --- what a test reads back ---

    public string? DriverOf(string address) =>
        new SysfsDirectory(_kernel.Resolve(Bus + "/devices/" + address)).LinkName("driver");

    /// <summary>The override as the kernel shows it: null for "(null)".</summary>
    public string? DriverOverrideOf(string address)
    {
        var shown = SysfsText.ReadValue(_kernel.Resolve(Bus + "/devices/" + address + "/driver_override"));
        return shown is null or "(null)" ? null : shown;
    }

    public IReadOnlyList<string> DynamicIdsOf(string driver) => _drivers[driver].DynamicIds.Select(i => i.ToString()).ToList();

    public bool VfioGroupNodeExists(int group) => File.Exists(_kernel.Resolve("/dev/vfio/" + group.ToString(CultureInfo.InvariantCulture)));

    public IReadOnlyList<string> Addresses() => EntryNames(Bus + "/devices");

    // --- the kernel side of writes ---

    internal bool TryWrite(string systemPath, string text)
    {
        var real = RealSystemPath(systemPath);
        if (real == Bus + "/drivers_probe") { _kernel.RequireAttribute(real); DriversProbe(SandboxKernel.Token(text)); return true; }
        if (real.StartsWith(Bus + "/drivers/", StringComparison.Ordinal))
        {
            var parts = real[(Bus.Length + "/drivers/".Length)..].Split('/');
            if (parts.Length != 2) return false;
            _kernel.RequireAttribute(real);
            var driver = parts[0];
            switch (parts[1])
            {
                case "bind":
                    var error = TryBind(SandboxKernel.Token(text), driver);
                    if (error is not null) throw SandboxKernel.Errno(error.Value, real);
                    return true;
                case "unbind": Unbind(SandboxKernel.Token(text), driver); return true;
                case "new_id": NewId(driver, text); return true;
                case "remove_id": RemoveId(driver, text); return true;
                default: return false;
            }
        }
        if (Path.GetFileName(real) == "driver_override")
        {
            var address = Addresses().FirstOrDefault(a => RealSystemPath(Bus + "/devices/" + a) == Path.GetDirectoryName(real));
            if (address is null) return false;
            SetDriverOverride(address, text);
            return true;
        }
        return false;
    }

    private KernelErrno? TryBind(string address, string driver)
    {
        if (!Addresses().Contains(address)) return KernelErrno.ENODEV;
        if (!Matches(address, driver)) return KernelErrno.ENODEV;
        if (DriverOf(address) is not null) return KernelErrno.EBUSY;
        var probeError = Probe(address, driver);
        if (probeError is not null) return probeError;
        Attach(address, driver);
        return null;
    }

    private void Unbind(string address, string driver)
    {
        if (!Addresses().Contains(address) || DriverOf(address) != driver) throw SandboxKernel.Errno(KernelErrno.ENODEV, $"{driver}/unbind {address}");
        Detach(address);
    }

    /// <summary>bus_rescan_devices_helper: a bound device is left alone; an unbound one gets the first driver that matches and probes.</summary>
    private void DriversProbe(string address)
    {
        if (!Addresses().Contains(address)) throw SandboxKernel.Errno(KernelErrno.ENODEV, "drivers_probe " + address);
        if (_deferredAddresses.Contains(address))
        {
            _pendingProbes.Add(address);
            _probeDeferred.Set();
            return;
        }
        BindFirstMatch(address);
    }

    private void BindFirstMatch(string address)
    {
        if (DriverOf(address) is not null) return;
        foreach (var driver in _drivers.Keys.Order(StringComparer.Ordinal))
            if (Matches(address, driver) && Probe(address, driver) is null) { Attach(address, driver); return; }
    }

    private void SetDriverOverride(string address, string text)
    {
        if (text.Length >= 4095) throw SandboxKernel.Errno(KernelErrno.EINVAL, "driver_override");
        var value = SandboxKernel.Token(text);
        _kernel.Show(Bus + "/devices/" + address + "/driver_override", (value.Length == 0 ? "(null)" : value) + "\n");
    }

    private void NewId(string driver, string text)
    {
        var id = PciIdMatch.FromNewId(text) ?? throw SandboxKernel.Errno(KernelErrno.EINVAL, driver + "/new_id");
        var model = _drivers[driver];
        if (model.DynamicIds.Any(d => d.Covers(id)) || model.StaticIds.Any(s => !s.IsOverrideOnly && s.Covers(id)))
            throw SandboxKernel.Errno(KernelErrno.EEXIST, driver + "/new_id");
        model.DynamicIds.Add(id);
        foreach (var address in Addresses())
            if (DriverOf(address) is null && Matches(address, driver) && Probe(address, driver) is null) Attach(address, driver);
    }

    private void RemoveId(string driver, string text)
    {
        var id = PciIdMatch.FromNewId(text) ?? throw SandboxKernel.Errno(KernelErrno.EINVAL, driver + "/remove_id");
        var model = _drivers[driver];
        int index = model.DynamicIds.FindIndex(d => d.Vendor == id.Vendor && d.Device == id.Device);
        if (index < 0) throw SandboxKernel.Errno(KernelErrno.ENODEV, driver + "/remove_id");
        model.DynamicIds.RemoveAt(index);
    }

    /// <summary>pci_match_device: driver_override excludes every other driver; dynamic ids, then static ids, then the override itself.</summary>
    private bool Matches(string address, string driver)
    {
        if (!_drivers.TryGetValue(driver, out var model)) return false;
        var function = Read(address);
        var driverOverride = DriverOverrideOf(address);
        if (driverOverride is not null && driverOverride != driver) return false;
        if (model.DynamicIds.Any(d => d.Matches(function))) return true;
        if (model.StaticIds.Any(s => s.Matches(function) && (!s.IsOverrideOnly || driverOverride is not null))) return true;
        return driverOverride == driver;
    }

    private KernelErrno? Probe(string address, string driver)
    {
        var model = _drivers[driver];
        if (model.ProbeError is not null) return model.ProbeError;
        if (driver == Vfio)
        {
            var function = Read(address);
            if (function.HeaderType != 0 || function.Group is null) return KernelErrno.EINVAL;
        }
        return null;
    }

    private void Attach(string address, string driver)
    {
        var device = DeviceRealPath(address);
        _kernel.Link(device + "/driver", _kernel.Resolve(DriverPath(driver)));
        _kernel.Link(_kernel.Resolve(DriverPath(driver) + "/" + address), device);
        if (driver == Vfio) OpenVfioGroup(address);
        else SetEnabled(device, driver, true);
    }

    /// <summary>Host drivers call pci_enable_device in probe and disable in remove; the stubs leave the function off until a VM opens it.</summary>
    private void SetEnabled(string device, string driver, bool enabled)
    {
        if (driver is "pci-stub" || !File.Exists(device + "/enable")) return;
        File.WriteAllText(_kernel.Inside(device + "/enable"), enabled ? "1\n" : "0\n");
    }

    private void Detach(string address)
    {
        var driver = DriverOf(address)!;
        var device = DeviceRealPath(address);
        _kernel.Unlink(device + "/driver");
        _kernel.Unlink(_kernel.Resolve(DriverPath(driver) + "/" + address));
        if (driver != Vfio) { SetEnabled(device, driver, false); return; }
        if (Directory.Exists(device + "/vfio-dev")) Directory.Delete(_kernel.Inside(device + "/vfio-dev"), recursive: true);
        var group = Read(address).Group;
        if (group is not null && !GroupMembers(group.Value).Any(m => DriverOf(m) == Vfio))
            File.Delete(_kernel.Inside(_kernel.Resolve("/dev/vfio/" + group.Value.ToString(CultureInfo.InvariantCulture))));
    }

    private void OpenVfioGroup(string address)
    {
        var group = Read(address).Group;
        if (group is null) return;
        _kernel.Control("/dev/vfio/vfio");
        _kernel.Control("/dev/vfio/" + group.Value.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(_kernel.Inside(DeviceRealPath(address) + "/vfio-dev") + "/vfio" + group.Value.ToString(CultureInfo.InvariantCulture));
    }

    // --- plumbing ---

    private PciDriverModel AdoptDriver(string name)
    {
        foreach (var control in new[] { "bind", "unbind", "new_id", "remove_id", "uevent" }) _kernel.Control(DriverPath(name) + "/" + control);
        var model = new PciDriverModel();
        if (KnownTables.TryGetValue(name, out var table)) model.StaticIds.AddRange(table);
        _drivers[name] = model;
        return model;
    }

    private void PrepareBus()
    {
        Directory.CreateDirectory(_kernel.Resolve(Bus + "/devices"));
        Directory.CreateDirectory(_kernel.Resolve(Bus + "/drivers"));
        _kernel.Control(Bus + "/drivers_probe");
        _kernel.Control(Bus + "/rescan");
        if (!File.Exists(_kernel.Resolve(Bus + "/drivers_autoprobe"))) _kernel.Show(Bus + "/drivers_autoprobe", "1\n");
    }

    private IEnumerable<string> GroupMembers(int group) => EntryNames("/sys/kernel/iommu_groups/" + group.ToString(CultureInfo.InvariantCulture) + "/devices");

    private PciFunctionFacts Read(string address)
    {
        var device = new SysfsDirectory(_kernel.Resolve(Bus + "/devices/" + address));
        var config = File.Exists(device.Combine("config")) ? File.ReadAllBytes(device.Combine("config")) : Array.Empty<byte>();
        var group = device.LinkName("iommu_group");
        return new PciFunctionFacts(device.Hex("vendor") ?? -1, device.Hex("device") ?? -1, device.Hex("class") ?? -1,
            config.Length > 0x0e ? config[0x0e] & 0x7f : 0, group is null ? null : int.Parse(group, CultureInfo.InvariantCulture));
    }

    private string DeviceRealPath(string address) => new SysfsDirectory(_kernel.Resolve(Bus + "/devices/" + address)).Resolved().Path;

    private static string DriverPath(string name) => Bus + "/drivers/" + name;

    private IReadOnlyList<string> EntryNames(string systemPath) => new SysfsDirectory(_kernel.Resolve(systemPath)).EntryNames();

    /// <summary>The system path with every symlink on the way resolved (…/devices/X/driver/unbind → /sys/bus/pci/drivers/D/unbind).</summary>
    private string RealSystemPath(string systemPath) => SandboxPaths.RealPath(_kernel.Root.Path, systemPath) ?? systemPath;

    private sealed class PciDriverModel
    {
        public List<PciIdMatch> StaticIds { get; } = new();
        public List<PciIdMatch> DynamicIds { get; } = new();
        public KernelErrno? ProbeError { get; set; }
    }
}
