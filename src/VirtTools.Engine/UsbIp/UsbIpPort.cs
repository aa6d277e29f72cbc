using VirtTools.Usb;

namespace VirtTools.UsbIp;

/// <summary>
/// One vhci_hcd port, numbered globally as <c>usbip port</c> prints it, with the remote end from the record that
/// <c>usbip attach</c> (or Connect-UsbIpDevice) left in /run/vhci_hcd.
/// </summary>
public sealed class UsbIpPort
{
    /// <summary>The controller that owns the port ("vhci_hcd.0").</summary>
    public required string Controller { get; init; }

    public int ControllerIndex { get; init; }

    public VhciHub Hub { get; init; }

    /// <summary>The global port number: what vhci_hcd's attach and detach files take.</summary>
    public int Port { get; init; }

    /// <summary>
    /// The number the controller's own status, attach and detach files use: the same as <see cref="Port"/> on mainline
    /// kernels, counted from 0 per controller on the per-controller (QVD) layout, as that layout's <c>usbip detach -i</c> takes it.
    /// </summary>
    public int ControllerPort { get; init; }

    /// <summary>null when the kernel printed a state this module does not know (see <see cref="StatusCode"/>).</summary>
    public UsbIpPortStatus? Status { get; init; }

    public int StatusCode { get; init; }

    public bool IsInUse => Status == UsbIpPortStatus.InUse;

    public bool IsFree => Status == UsbIpPortStatus.Free;

    /// <summary>The attached device's speed; null on a port without a device.</summary>
    public UsbSpeed? Speed { get; init; }

    public double? SpeedMbps => Speed is UsbSpeed s ? UsbSpeeds.ToMbps(s) : null;

    /// <summary>The USB/IP devid, (remote bus number &lt;&lt; 16) | remote device number; null on a port without a device.</summary>
    public int? DeviceId { get; init; }

    public int? RemoteBusNumber => DeviceId >> 16;

    public int? RemoteDeviceNumber => DeviceId & 0xffff;

    /// <summary>The socket descriptor number the attaching process handed to the kernel (newer kernels only).</summary>
    public int? SocketFd { get; init; }

    /// <summary>The bus id the imported device got on this machine ("4-1"): what Get-UsbDevice shows as imported.</summary>
    public UsbBusId? LocalBusId { get; init; }

    /// <summary>The server, its TCP port and the bus id there, from the attach record; null without one.</summary>
    public string? RemoteHost { get; init; }

    public int? RemoteTcpPort { get; init; }

    public UsbBusId? RemoteBusId { get; init; }

    /// <summary>The container the device was given to (Connect-UsbIpDevice -Container), from the attach record; null for the host's own.</summary>
    public string? Container { get; init; }

    /// <summary>The container's init process when it was given the device: the port's owner.</summary>
    public int? ContainerProcessId { get; init; }

    /// <summary>Whether the port was placed on a controller of the container's own (-DedicatedController); false without a container.</summary>
    public bool ContainerDedicatedController { get; init; }

    /// <summary>The device nodes given to the container (/dev/bus/usb/004/002, /dev/sda ...); empty without a container.</summary>
    public IReadOnlyList<string> ContainerNodes { get; init; } = Array.Empty<string>();

    public required string Root { get; init; }

    public override string ToString() => $"{Controller} port {Port}";
}
