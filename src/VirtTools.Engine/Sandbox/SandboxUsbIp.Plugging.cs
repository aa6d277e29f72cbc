using System.Globalization;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.Sandbox;

/// <summary>
/// Devices coming and going, and configurations (drivers/usb/core/hub.c, generic.c, message.c):
/// <list type="bullet">
/// <item><see cref="Unplug"/>: the driver lets go (usbip-host gives its port back and its table entry is ADDED again),
///   and the device with its interfaces leaves sysfs. <see cref="Plug"/>: it comes back on the same port with a new
///   device number and is probed as a new device: usbip-host when its table and the port let it, else the generic
///   driver.</item>
/// <item>The generic driver configures a device unless its port is owned (usb_choose_configuration returns 0, so it
///   stays unconfigured: bConfigurationValue and bNumInterfaces empty, no interfaces, no interface driver) or it is
///   not authorized. Releasing the port does not reconfigure it; `authorized` 0 then 1 makes the choice again.</item>
/// </list>
/// What sysfs would no longer show is kept beside the tree, under <see cref="StashFolder"/>.
/// </summary>
public sealed partial class SandboxUsbIp
{
    /// <summary>Where unplugged devices and the interfaces of unconfigured ones wait, at the top of the sandbox.</summary>
    public const string StashFolder = "/.virttools-sandbox-usb";

    private readonly Dictionary<string, string> _unplugged = new(StringComparer.Ordinal);

    /// <summary>Takes the device at <paramref name="busId"/> out of its port, as pulling the plug does.</summary>
    public SandboxUsbIp Unplug(string busId)
    {
        lock (_kernel.Gate) return UnplugLocked(busId);
    }

    private SandboxUsbIp UnplugLocked(string busId)
    {
        var device = Device(busId);
        if (!device.Exists) throw new ArgumentException($"No device {busId} is plugged in.", nameof(busId));
        if (DriverOf(busId) is { } driver) Unbind(busId, driver);
        var real = device.Resolved().Path;
        foreach (var name in InterfaceNames(real)) File.Delete(_kernel.Resolve("/sys/bus/usb/devices/" + name));
        File.Delete(_kernel.Resolve("/sys/bus/usb/devices/" + busId));
        var stash = Stash("unplugged/" + busId);
        Directory.Move(_kernel.Inside(real), stash);
        _unplugged[busId] = real;
        return this;
    }

    /// <summary>Plugs back a device <see cref="Unplug"/> took out, into the same port.</summary>
    public SandboxUsbIp Plug(string busId)
    {
        lock (_kernel.Gate) return PlugLocked(busId);
    }

    private SandboxUsbIp PlugLocked(string busId)
    {
        if (!_unplugged.Remove(busId, out var real)) throw new ArgumentException($"No device was unplugged from {busId}.", nameof(busId));
        Directory.Move(_kernel.Inside(_kernel.Resolve(StashFolder + "/unplugged/" + busId)), _kernel.Inside(real));
        _kernel.Link(_kernel.Resolve("/sys/bus/usb/devices/" + busId), real);
        foreach (var name in InterfaceNames(real)) _kernel.Link(_kernel.Resolve("/sys/bus/usb/devices/" + name), real + "/" + name);
        var bus = Device(busId).Int("busnum");
        var last = new SysfsDirectory(_kernel.Resolve("/sys/bus/usb/devices")).EntryNames()
            .Where(name => UsbBusId.TryParse(name, out _)).Select(Device).Where(d => d.Int("busnum") == bus).Max(d => d.Int("devnum") ?? 0);
        _kernel.Show(Path.GetRelativePath(Root, real).Insert(0, "/") + "/devnum", (last + 1).ToString(CultureInfo.InvariantCulture) + "\n");
        Attach(busId);
        return this;
    }

    /// <summary>Whether the device is unconfigured (no active configuration, so no interfaces).</summary>
    public bool IsUnconfigured(string busId) => string.IsNullOrEmpty(Device(busId).String("bConfigurationValue"));

    private string Root => _kernel.Root.Path;

    private bool IsAuthorized(string systemPath)
    {
        var parts = systemPath.Split('/');
        return parts.Length == 7 && systemPath.StartsWith("/sys/bus/usb/devices/", StringComparison.Ordinal) && parts[6] == "authorized"
            && UsbBusId.TryParse(parts[5], out var device) && !device.IsRootHub;
    }

    /// <summary>authorized: 0 takes the configuration away, 1 lets the generic driver choose one again.</summary>
    private void Authorize(string busId, string value)
    {
        var attribute = "/sys/bus/usb/devices/" + busId + "/authorized";
        if (value == "0")
        {
            Unconfigure(busId);
            _kernel.Show(attribute, "0\n");
        }
        else if (value == "1")
        {
            _kernel.Show(attribute, "1\n");
            if (DriverOf(busId) == "usb") ChooseConfiguration(busId);
        }
        else throw SandboxKernel.Errno(KernelErrno.EINVAL, "authorized " + value);
    }

    /// <summary>generic_probe: configuration 0 (none) on an owned port or for an unauthorized device, else the first.</summary>
    private void ChooseConfiguration(string busId)
    {
        if (Device(busId).Int("authorized") == 0 || _kernel.HubPorts.IsClaimedByUserspace(busId)) Unconfigure(busId);
        else Configure(busId);
    }

    private void Unconfigure(string busId)
    {
        var real = Device(busId).Resolved().Path;
        if (IsUnconfigured(busId)) return;
        var remembered = _interfaceDrivers.TryGetValue(busId, out var known) ? known : new Dictionary<string, string>(StringComparer.Ordinal);
        var stash = Stash("unconfigured/" + busId);
        File.WriteAllText(stash + "/.configuration", (Device(busId).String("bConfigurationValue") ?? "1") + "\n" + (Device(busId).String("bNumInterfaces") ?? "1") + "\n");
        foreach (var name in InterfaceNames(real))
        {
            if (new SysfsDirectory(real + "/" + name).LinkName("driver") is { } interfaceDriver)
            {
                remembered[name] = interfaceDriver;
                _kernel.Unlink(real + "/" + name + "/driver");
                _kernel.Unlink(_kernel.Resolve("/sys/bus/usb/drivers/" + interfaceDriver + "/" + name));
            }
            File.Delete(_kernel.Resolve("/sys/bus/usb/devices/" + name));
            Directory.Move(_kernel.Inside(real + "/" + name), stash + "/" + name);
        }
        if (remembered.Count > 0) _interfaceDrivers[busId] = remembered;
        File.WriteAllText(_kernel.Inside(real + "/bConfigurationValue"), "");
        File.WriteAllText(_kernel.Inside(real + "/bNumInterfaces"), "");
    }

    private void Configure(string busId)
    {
        var real = Device(busId).Resolved().Path;
        var stash = _kernel.Resolve(StashFolder + "/unconfigured/" + busId);
        if (Directory.Exists(stash))
        {
            var saved = File.ReadAllLines(stash + "/.configuration");
            foreach (var name in InterfaceNames(stash))
            {
                Directory.Move(stash + "/" + name, _kernel.Inside(real + "/" + name));
                _kernel.Link(_kernel.Resolve("/sys/bus/usb/devices/" + name), real + "/" + name);
            }
            File.WriteAllText(_kernel.Inside(real + "/bConfigurationValue"), saved[0] + "\n");
            File.WriteAllText(_kernel.Inside(real + "/bNumInterfaces"), saved[1] + "\n");
            Directory.Delete(stash, recursive: true);
        }
        RestoreInterfaceDrivers(busId);
    }

    /// <summary>The interface folders ("1-2:1.0") of a device folder.</summary>
    private static List<string> InterfaceNames(string deviceFolder) =>
        new SysfsDirectory(deviceFolder).EntryNames().Where(n => n.Contains(':', StringComparison.Ordinal) && File.Exists(deviceFolder + "/" + n + "/bInterfaceClass")).ToList();

    /// <summary>A fresh, empty folder under <see cref="StashFolder"/> for <paramref name="relative"/>.</summary>
    private string Stash(string relative)
    {
        var path = _kernel.Inside(_kernel.Resolve(StashFolder + "/" + relative));
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (relative.StartsWith("unconfigured/", StringComparison.Ordinal)) Directory.CreateDirectory(path);
        return path;
    }
}
