using System.Globalization;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// Reads the import side of USB/IP: the vhci_hcd.N controllers, their port tables in both kernel layouts
/// (<see cref="VhciLayout"/>), and the attach records. No controller (vhci-hcd not loaded) reads as no ports.
/// </summary>
public sealed class VhciReader
{
    public const string PlatformPath = "/sys/devices/platform";
    public const string ControllerPrefix = "vhci_hcd.";

    /// <summary>The driver's name, which starts its kernel log lines ("vhci_hcd: Failed attach request ...").</summary>
    public const string DriverName = "vhci_hcd";

    public VhciReader(SystemRoot root) => Root = root;

    public SystemRoot Root { get; }

    /// <summary>The controllers in index order, with the paths of their status, attach and detach files.</summary>
    public IReadOnlyList<VhciController> GetControllers()
    {
        var indexes = Root.Directory(PlatformPath).EntryNames()
            .Select(name => name.StartsWith(ControllerPrefix, StringComparison.Ordinal)
                && int.TryParse(name.AsSpan(ControllerPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1)
            .Where(index => index >= 0).Order().ToList();
        if (indexes.Count == 0) return Array.Empty<VhciController>();
        var first = ControllerPath(0);
        // Mainline keeps status.1 … on vhci_hcd.0; QVD kernels give each controller its own files.
        var layout = indexes.Count > 1 && !Root.Exists(first + "/status.1") ? VhciLayout.PerController : VhciLayout.Mainline;
        return indexes.Select(index =>
        {
            var own = ControllerPath(index);
            var controls = layout == VhciLayout.Mainline ? first : own;
            // Per-controller kernels number each controller's ports from 0; counting on from the controllers before
            // keeps Port unique, as mainline's global numbers are (every controller has the same number of ports).
            var portsEach = layout == VhciLayout.Mainline ? 0
                : Root.Directory(own).Int("nports") ?? VhciStatusRow.Parse(Root.ReadText(own + "/status")).Count;
            return new VhciController
            {
                Name = ControllerPrefix + index.ToString(CultureInfo.InvariantCulture),
                Index = index,
                SysfsPath = own,
                StatusPath = layout == VhciLayout.Mainline && index > 0 ? $"{first}/status.{index.ToString(CultureInfo.InvariantCulture)}" : own + "/status",
                AttachPath = controls + "/attach",
                DetachPath = controls + "/detach",
                Layout = layout,
                PortBase = index * portsEach,
            };
        }).ToList();
    }

    /// <summary>Every port of every controller, in controller and port order.</summary>
    public IReadOnlyList<UsbIpPort> GetPorts() => GetControllers().SelectMany(GetPorts).ToList();

    /// <summary>The ports one controller's status file lists.</summary>
    public IEnumerable<UsbIpPort> GetPorts(VhciController controller) =>
        VhciStatusRow.Parse(Root.ReadText(controller.StatusPath)).Select(row => ToPort(controller, row, withRecord: true));

    /// <summary>
    /// The ports one controller's status file lists, without their attach records (no remote end): all that choosing
    /// a free port needs, and one file read per controller instead of one more per attached device.
    /// </summary>
    public IEnumerable<UsbIpPort> GetPortStates(VhciController controller) =>
        VhciStatusRow.Parse(Root.ReadText(controller.StatusPath)).Select(row => ToPort(controller, row, withRecord: false));

    /// <summary>The first free port on a hub across all controllers, as <c>usbip attach</c> picks it; null when all are taken.</summary>
    public UsbIpPort? FindFreePort(VhciHub hub) => GetPorts().FirstOrDefault(p => p.Hub == hub && p.IsFree);

    /// <summary>The hub a device of this speed must go on: SuperSpeed and SuperSpeedPlus on the USB 3 hub, the rest on USB 2.</summary>
    public static VhciHub HubFor(UsbSpeed speed) => speed >= UsbSpeed.Super ? VhciHub.SuperSpeed : VhciHub.HighSpeed;

    /// <summary>Controllers, the kernel's nports figure, and free and used ports.</summary>
    public VhciCapacity GetCapacity()
    {
        var controllers = GetControllers();
        var ports = controllers.SelectMany(GetPorts).ToList();
        // Mainline: nports on vhci_hcd.0 counts every controller's ports; QVD: each controller counts its own.
        int? portCount = controllers.Count == 0 ? null
            : controllers[0].Layout == VhciLayout.Mainline ? Root.Directory(controllers[0].SysfsPath).Int("nports")
            : controllers.Sum(c => Root.Directory(c.SysfsPath).Int("nports") ?? 0);
        return VhciCapacity.Count(controllers, ports, portCount);
    }

    private UsbIpPort ToPort(VhciController controller, VhciStatusRow row, bool withRecord)
    {
        var status = Enum.IsDefined(typeof(UsbIpPortStatus), row.StatusCode) ? (UsbIpPortStatus?)row.StatusCode : null;
        // A record outlives a crash of whoever wrote it; only an attached port's record describes its device.
        var port = controller.PortBase + row.Port;
        var record = withRecord && status == UsbIpPortStatus.InUse ? VhciPortRecord.Read(Root, controller.RecordFileName(port)) : null;
        return new UsbIpPort
        {
            Controller = controller.Name,
            ControllerIndex = controller.Index,
            // Kernels without a hub column predate the USB 3 hub: every port was high speed.
            Hub = row.Hub ?? VhciHub.HighSpeed,
            Port = port,
            ControllerPort = row.Port,
            Status = status,
            StatusCode = row.StatusCode,
            Speed = row.SpeedCode is int code && Enum.IsDefined(typeof(UsbSpeed), code) ? (UsbSpeed)code : null,
            DeviceId = row.DeviceId,
            SocketFd = row.SocketFd,
            LocalBusId = row.LocalBusId,
            RemoteHost = record?.Host,
            RemoteTcpPort = record?.TcpPort,
            RemoteBusId = record?.BusId,
            Container = record?.Container?.Name,
            ContainerProcessId = record?.Container?.ProcessId,
            ContainerDedicatedController = record?.Container?.DedicatedController ?? false,
            ContainerNodes = record?.Container?.Nodes.Select(n => n.Path).ToList() ?? (IReadOnlyList<string>)Array.Empty<string>(),
            Root = Root.Path,
        };
    }

    private static string ControllerPath(int index) => PlatformPath + "/" + ControllerPrefix + index.ToString(CultureInfo.InvariantCulture);
}
