using System.Globalization;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.Sandbox;

/// <summary>
/// Hub port ownership as drivers/usb/core/hub.c keeps it, reached through usbfs (devio.c proc_claim_port /
/// proc_release_port): the <see cref="IUsbFs"/> of a sandbox root.
/// <list type="bullet">
/// <item>Opening /dev/bus/usb/BBB/DDD finds the device with that busnum and devnum (ENOENT when there is none).</item>
/// <item>CLAIM_PORT: EINVAL for port 0 or a port above the hub's maxchild (a device that is not a hub has 0);
///   EBUSY when the port has an owner: another open node, or usbip-host bound to the device there (stub_probe
///   claims its port). RELEASE_PORT: ENOENT unless this node owns it. Closing the node releases all it owns.</item>
/// <item>What ownership does to a device on the port is <see cref="SandboxUsbIp"/>'s: usbip-host's probe fails with
///   EBUSY, and the generic driver leaves the device unconfigured with no interfaces.</item>
/// </list>
/// Like the kernel's, the owners of open nodes live in memory: another process sees its own claims only.
/// </summary>
public sealed class SandboxHubPorts : IUsbFs
{
    private const string DevicesPath = "/sys/bus/usb/devices/";

    private readonly SandboxKernel _kernel;
    private readonly object _sync = new();
    private readonly Dictionary<HubPort, Node> _owners = new();

    internal SandboxHubPorts(SandboxKernel kernel) => _kernel = kernel;

    /// <summary>The ports an open node holds now (usbip-host's own claims are not listed).</summary>
    public IReadOnlyCollection<HubPort> Claimed
    {
        get { lock (_sync) return _owners.Keys.ToList(); }
    }

    /// <summary>Whether the port has an owner: an open node, or usbip-host bound to the device plugged there.</summary>
    public bool IsOwned(HubPort port)
    {
        lock (_sync) if (_owners.ContainsKey(port)) return true;
        return Device(ChildBusId(port)).LinkName("driver") == SandboxUsbIp.HostDriverName;
    }

    /// <summary>Whether an open node (not usbip-host) holds the port the device <paramref name="busId"/> is plugged into.</summary>
    internal bool IsClaimedByUserspace(string busId)
    {
        if (!UsbBusId.TryParse(busId, out var device) || !HubPort.TryFrom(device, out var port)) return false;
        lock (_sync) return _owners.ContainsKey(port);
    }

    public IUsbFsHub OpenHub(string devicePath)
    {
        var parts = devicePath.Split('/');
        if (parts.Length != 6 || devicePath[..13] != "/dev/bus/usb/"
            || !int.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var bus)
            || !int.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            throw SandboxKernel.Errno(KernelErrno.ENOENT, devicePath);
        foreach (var name in new SysfsDirectory(_kernel.Resolve(DevicesPath)).EntryNames())
            if (UsbBusId.TryParse(name, out var busId) && Device(busId).Int("busnum") == bus && Device(busId).Int("devnum") == number)
                return new Node(this, busId);
        throw SandboxKernel.Errno(KernelErrno.ENOENT, devicePath);
    }

    private void Claim(Node node, int port)
    {
        var hub = Device(node.HubBusId);
        if (!hub.Exists) throw SandboxKernel.Errno(KernelErrno.ENODEV, $"claim port {port} of {node.HubBusId}");
        if (port < 1 || port > (hub.Int("maxchild") ?? 0)) throw SandboxKernel.Errno(KernelErrno.EINVAL, $"claim port {port} of {node.HubBusId}");
        var key = new HubPort(node.HubBusId, port);
        lock (_sync)
        {
            if (_owners.ContainsKey(key) || IsOwned(key)) throw SandboxKernel.Errno(KernelErrno.EBUSY, $"claim {key}");
            _owners[key] = node;
        }
    }

    private void Release(Node node, int port)
    {
        var key = new HubPort(node.HubBusId, port);
        lock (_sync)
        {
            if (!_owners.TryGetValue(key, out var owner) || owner != node) throw SandboxKernel.Errno(KernelErrno.ENOENT, $"release {key}");
            _owners.Remove(key);
        }
    }

    private void ReleaseAll(Node node)
    {
        lock (_sync)
            foreach (var key in _owners.Where(pair => pair.Value == node).Select(pair => pair.Key).ToList()) _owners.Remove(key);
    }

    private static UsbBusId ChildBusId(HubPort port) => port.HubBusId.Child(port.Port);

    private SysfsDirectory Device(UsbBusId busId) => new(_kernel.Resolve(DevicesPath + busId));

    private sealed class Node(SandboxHubPorts ports, UsbBusId hubBusId) : IUsbFsHub
    {
        private bool _closed;

        public UsbBusId HubBusId { get; } = hubBusId;

        public void ClaimPort(int port)
        {
            if (_closed) throw new ObjectDisposedException(nameof(IUsbFsHub));
            ports.Claim(this, port);
        }

        public void ReleasePort(int port)
        {
            if (_closed) throw new ObjectDisposedException(nameof(IUsbFsHub));
            ports.Release(this, port);
        }

        public void Dispose()
        {
            _closed = true;
            ports.ReleaseAll(this);
        }
    }
}
