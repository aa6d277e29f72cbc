using System.Globalization;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Containers;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// The client side of USB/IP, as <c>usbip attach</c> and <c>usbip detach</c> do it: import a device from a server,
/// hand the connection to a free vhci_hcd port of the device's speed on any controller (in both kernel layouts,
/// see <see cref="VhciLayout"/>), and keep the same /run/vhci_hcd records, so the kernel's tools and this module
/// see each other's attachments.
/// </summary>
public sealed class VhciAttacher
{
    /// <summary>How long an attached port may stay "not assigned" (the kernel resetting the new port) before it is reported as it is.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(3);

    private readonly IUsbIpImporter _importer;
    private readonly VhciReader _reader;
    private readonly UsbIpDeadPeerPolicy _deadPeer;

    public VhciAttacher(SystemRoot root, IUsbIpImporter importer, UsbIpDeadPeerPolicy? deadPeer = null)
    {
        Root = root;
        _importer = importer;
        _reader = new VhciReader(root);
        _deadPeer = deadPeer ?? UsbIpDeadPeerPolicy.Default;
    }

    public SystemRoot Root { get; }

    /// <summary>
    /// Imports <paramref name="busId"/> from the server, attaches it to a port the placement allows, records it (with
    /// the container it is meant for, if any), and returns its port as the kernel then shows it.
    /// </summary>
    public async Task<UsbIpPort> ConnectAsync(string computerName, int tcpPort, UsbBusId busId, TimeSpan timeout, CancellationToken cancellation = default,
        VhciPlacement? placement = null, ContainerGrant? container = null)
    {
        RequireAttachable(busId);

        using var import = await _importer.ImportAsync(computerName, tcpPort, busId.ToString(), timeout, cancellation).ConfigureAwait(false);
        import.PrepareForKernel(_deadPeer);
        var (controller, port) = Attach(import, busId, placement ?? VhciPlacement.Any);
        // Before the port settles: the device's first URBs (its reset and enumeration) already go through a TLS relay.
        import.Attached();
        try
        {
            new VhciPortRecord(computerName, tcpPort, busId, container).Write(Root, controller.RecordFileName(port));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Diagnostics.VirtToolsException)
        {
            // Without its record the attachment would be anonymous to usbip port and Get-UsbIpPort: undo it.
            SysfsWriter.Write(Root, controller.DetachPath, controller.ControllerPort(port).ToString(CultureInfo.InvariantCulture));
            throw VhciErrors.RecordNotWritten(Root.Resolve(VhciPortRecord.WriteDirectory) + "/" + controller.RecordFileName(port), busId, e);
        }
        return await SettleAsync(controller, port, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// What can be checked before the server hands its device over: a controller to attach to and the privilege to
    /// write its files. Callers that do more before the import (ask a container manager) check it first.
    /// </summary>
    public void RequireAttachable(UsbBusId busId)
    {
        RequireControllers(busId);
        if (Root.IsLive && !Environment.IsPrivilegedProcess) throw VhciErrors.NotRoot(busId.ToString());
    }

    /// <summary>The port <paramref name="port"/> when a device is attached to it; the failure that says why not otherwise.</summary>
    public UsbIpPort GetAttachedPort(int port)
    {
        RequireControllers(port);
        var found = _reader.GetPorts().FirstOrDefault(p => p.Port == port) ?? throw UsbIpErrors.NoPort(port, vhciLoaded: true);
        return found.IsFree ? throw VhciErrors.NotInUse(port) : found;
    }

    /// <summary>The attached ports whose record names this server (see <see cref="UsbIpServerName"/>) and busid.</summary>
    public IReadOnlyList<UsbIpPort> FindAttached(string computerName, UsbBusId busId)
    {
        RequireControllers(busId);
        var found = _reader.GetPorts().Where(p => !p.IsFree && p.RemoteBusId == busId
            && UsbIpServerName.Same(p.RemoteHost, computerName)).ToList();
        return found.Count > 0 ? found : throw new Diagnostics.VirtToolsException(UsbIpErrors.PortNotFound, Diagnostics.FailureKind.NotFound,
            $"No vhci_hcd port holds {busId} from {computerName}: no attach record in /run/vhci_hcd names them.",
            "Run Get-UsbIpPort -InUse to see what is attached and from where, then disconnect by -Port.", busId);
    }

    /// <summary>The attach record of a port in use; null without one.</summary>
    public VhciPortRecord? ReadRecord(UsbIpPort port) => VhciPortRecord.Read(Root, ControllerOf(port).RecordFileName(port.Port));

    /// <summary>Replaces the attach record of a port in use (see <see cref="VhciPortRecord.Write"/> for its failures).</summary>
    public void SaveRecord(UsbIpPort port, VhciPortRecord record) => record.Write(Root, ControllerOf(port).RecordFileName(port.Port));

    /// <summary>Writes the port to its controller's detach file and removes its record, as <c>usbip detach -p</c>.</summary>
    public void Disconnect(UsbIpPort port)
    {
        var controller = ControllerOf(port);
        if (port.IsFree) throw VhciErrors.NotInUse(port.Port);
        try
        {
            SysfsWriter.Write(Root, controller.DetachPath, port.ControllerPort.ToString(CultureInfo.InvariantCulture));
        }
        catch (KernelWriteException e) when (e.Errno == KernelErrno.EINVAL)
        {
            // The kernel's "not connected": the device went away since the port was read.
            throw VhciErrors.NotInUse(port.Port, e);
        }
        VhciPortRecord.Delete(Root, controller.RecordFileName(port.Port));
    }

    /// <summary>
    /// Writes "port sockfd devid speed" to the first free port of the device's hub, in controller order; on EBUSY
    /// (another attacher took the port since it was read) tries the next, as usbip's concurrent-attach retry does.
    /// </summary>
    private (VhciController Controller, int Port) Attach(IUsbIpImport import, UsbBusId busId, VhciPlacement placement)
    {
        var device = import.Device;
        var hub = VhciReader.HubFor((UsbSpeed)(int)device.Speed);
        var taken = new HashSet<int>();
        while (true)
        {
            var controllers = _reader.GetControllers();
            // The status files alone say which ports are free; a container's placement also needs whose they are.
            IEnumerable<UsbIpPort> Ports(VhciController c) => placement.DedicatedTo is null ? _reader.GetPortStates(c) : _reader.GetPorts(c);
            var ports = controllers.SelectMany(Ports).ToList();
            var allowed = placement.Controllers(controllers, ports, hub);
            var free = ports.FirstOrDefault(p => p.Hub == hub && p.IsFree && !taken.Contains(p.Port) && allowed.Contains(p.ControllerIndex));
            if (free is null) throw VhciErrors.NoFree(VhciHubCapacity.Count(hub, ports), controllers.Count, busId);
            var controller = controllers.First(c => c.Index == free.ControllerIndex);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{free.ControllerPort} {import.SocketFd} {device.DeviceId} {(uint)device.Speed}");
            // Opened before the write, so a refusal quotes only what vhci_hcd says about this attach.
            using var kernelLog = KernelLog.OpenAtEnd(Root);
            try
            {
                SysfsWriter.Write(Root, controller.AttachPath, line);
                return (controller, free.Port);
            }
            catch (KernelWriteException e) when (e.Errno == KernelErrno.EBUSY)
            {
                taken.Add(free.Port);
            }
            catch (KernelWriteException e) when (e.Kind != Diagnostics.FailureKind.PermissionDenied)
            {
                throw VhciErrors.Refused(free.Port, busId, e, KernelLog.Quote(kernelLog, VhciReader.DriverName));
            }
        }
    }

    /// <summary>The port as the kernel shows it once the new device is through its reset (sta 6), or after a short wait.</summary>
    private async Task<UsbIpPort> SettleAsync(VhciController controller, int port, CancellationToken cancellation)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var current = _reader.GetPorts(controller).First(p => p.Port == port);
            if (current.Status != UsbIpPortStatus.NotAssigned || waited.Elapsed >= SettleTimeout || cancellation.IsCancellationRequested) return current;
            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private VhciController ControllerOf(UsbIpPort port) =>
        RequireControllers(port.Port).FirstOrDefault(c => c.Index == port.ControllerIndex) ?? throw UsbIpErrors.NoPort(port.Port, vhciLoaded: true);

    private IReadOnlyList<VhciController> RequireControllers(object target)
    {
        var controllers = _reader.GetControllers();
        return controllers.Count > 0 ? controllers : throw VhciErrors.NoController(target?.ToString());
    }
}
