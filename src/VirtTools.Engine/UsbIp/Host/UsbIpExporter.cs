using VirtTools.Diagnostics;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Host;

/// <summary>
/// Shares local USB devices through usbip-host and takes them back, with the writes `usbip bind` and `usbip unbind`
/// make (tools/usb/usbip/src/usbip_bind.c, usbip_unbind.c), each followed by a look at the driver link: a write the
/// kernel accepts can still bind nothing. A failed export undoes every step; the driver a device came from is
/// recorded so that its removal, from any shell, returns it there.
/// </summary>
/// <remarks>
/// usbip-host compares match_busid and rebind values with the whole buffer, so those are written without a newline
/// (as usbip does; the driver core's bind and unbind would accept one). On current kernels "del" only marks an
/// entry that is not bound (stub_main.c, del_match_busid); it leaves the table when rebind reprobes the device, which is why removal writes
/// unbind, del, rebind in that order, exactly as `usbip unbind` does.
/// </remarks>
public sealed class UsbIpExporter
{
    /// <summary>The generic USB device driver: what a device is on before export, and what then probes its interface drivers.</summary>
    public const string GenericDriver = UsbDeviceDrivers.Generic;
    public const string DriversProbePath = "/sys/bus/usb/drivers_probe";
    public const string MatchBusIdPath = UsbIpHostReader.DriverPath + "/" + UsbIpHostReader.MatchBusIdFile;
    public const string RebindPath = UsbIpHostReader.DriverPath + "/rebind";
    public const string BindPath = UsbIpHostReader.DriverPath + "/bind";

    private readonly SystemRoot _root;
    private readonly UsbDeviceReader _devices;
    private readonly UsbIpHostReader _host;
    private readonly JsonRecordStore<UsbIpExportRecord> _records;

    public UsbIpExporter(SystemRoot root)
    {
        _root = root;
        _devices = new UsbDeviceReader(root);
        _host = new UsbIpHostReader(_devices);
        _records = UsbIpExportRecord.Store(root);
    }

    public static string DriverAttribute(string driver, string attribute) => $"/sys/bus/usb/drivers/{driver}/{attribute}";

    /// <summary>
    /// The checks `usbip bind` makes — the device exists, is not a hub, is not itself imported (a bind loop) — plus
    /// usbip-host being loaded, and the writes: add the bus id to match_busid, unbind the current driver, bind
    /// usbip-host. A device usbip-host already holds gives a plan that changes nothing. Reads only.
    /// </summary>
    public UsbIpExportPlan PlanExport(UsbBusId busId)
    {
        var device = _devices.Find(busId) ?? throw UsbErrors.NoDevice(busId.ToString());
        if (device.IsExported) return new UsbIpExportPlan(busId, device, Array.Empty<AttributeWrite>(), UsbIpHostReader.DriverName);
        if (device.IsHub) throw UsbIpErrors.HubNotExportable(busId);
        if (device.VhciController is { } controller) throw UsbIpErrors.BindLoop(busId, controller);
        if (!_host.IsDriverLoaded) throw UsbIpErrors.HostDriverMissing(busId);
        // A record file that cannot be read would fail the export after the bind: say so before anything changes.
        _records.Load();

        var writes = new List<AttributeWrite>();
        // An entry that is already there (a device exported before and replugged) is not ours to delete on rollback.
        if (!_host.GetMatchBusIds().Contains(busId)) writes.Add(MatchBusId("add", busId));
        if (device.Driver is { } current) writes.Add(new AttributeWrite(DriverAttribute(current, "unbind"), busId.ToString(), Exact: true));
        writes.Add(new AttributeWrite(DriverAttribute(UsbIpHostReader.DriverName, "bind"), busId.ToString(), Exact: true));
        return new UsbIpExportPlan(busId, device, writes, UsbIpHostReader.DriverName);
    }

    /// <summary>
    /// Does an export plan, checks that usbip-host holds the device, and records where it came from. On any failure,
    /// the record's included, every step done is undone (the device back on its driver, the match_busid entry gone)
    /// and the error says how.
    /// </summary>
    /// <remarks>
    /// A caller that holds the device's hub port passes <paramref name="port"/>: usbip-host claims the port in its probe,
    /// so the claim is released just before the bind, and taken again before any rollback hands the device back.
    /// </remarks>
    public UsbIpExport Export(UsbIpExportPlan plan, UsbIpPortHandover? port = null)
    {
        var done = new List<AttributeWrite>();
        // Opened before the writes, so a failure quotes only what the kernel says about the device from here on.
        using var kernelLog = KernelLog.OpenAtEnd(_root);
        foreach (var write in plan.Writes)
        {
            try
            {
                if (write.SystemPath == BindPath) port?.Release();
                write.Apply(_root);
            }
            catch (VirtToolsException failure)
            {
                port?.Reclaim();
                throw ExportFailed(plan, write, failure, KernelLog.Quote(kernelLog, plan.BusId.ToString()), RollBack(plan, done));
            }
            done.Add(write);
        }
        if (!plan.ChangesNothing)
        {
            var driver = DriverOf(plan.BusId);
            if (driver != UsbIpHostReader.DriverName) port?.Reclaim();
            if (driver != UsbIpHostReader.DriverName)
                throw new VirtToolsException(UsbIpErrors.BindFailedId, FailureKind.DeviceError,
                    $"After the writes, '{plan.BusId}' is {(driver is null ? "bound to no driver" : "on " + driver)}, not usbip-host: the kernel accepted the bind but usbip-host did not take the device.{KernelLog.Quote(kernelLog, plan.BusId.ToString())} {RollBack(plan, done)}",
                    "See the kernel log (dmesg) for what usbip-host said about the device.", plan.BusId);
            try
            {
                _records.Save(new UsbIpExportRecord
                {
                    BusId = plan.BusId.ToString(), OriginalDriver = plan.FromDriver, VendorId = plan.Device?.VendorId, ProductId = plan.Device?.ProductId,
                });
            }
            catch (Exception e)
            {
                // An export no record remembers would go back to the generic driver from another shell: all or nothing.
                port?.Reclaim();
                throw UsbIpErrors.ExportRecordNotWritten(_records.SystemPath, plan.BusId, e, RollBack(plan, done));
            }
        }
        return _host.Find(plan.BusId) ?? throw UsbIpErrors.NoExport(plan.BusId.ToString(), _host.IsDriverLoaded);
    }

    /// <summary>
    /// The writes `usbip unbind` makes — unbind from usbip-host, del from match_busid, rebind (or, on a kernel
    /// without rebind, drivers_probe) — and the driver the device should return to. Reads only.
    /// </summary>
    public UsbIpExportPlan PlanRemove(UsbBusId busId)
    {
        var export = _host.Find(busId) ?? throw UsbIpErrors.NoExport(busId.ToString(), _host.IsDriverLoaded);
        var writes = new List<AttributeWrite>();
        if (export.IsBound) writes.Add(new AttributeWrite(DriverAttribute(UsbIpHostReader.DriverName, "unbind"), busId.ToString(), Exact: true));
        if (export.IsInMatchTable) writes.Add(MatchBusId("del", busId));
        // rebind reprobes a plugged-in device and drops its entry; it must not be asked about an unplugged one.
        if (export.IsPresent)
            writes.Add(export.IsInMatchTable && _root.Exists(RebindPath)
                ? new AttributeWrite(RebindPath, busId.ToString(), Exact: true)
                : new AttributeWrite(DriversProbePath, busId.ToString(), Exact: true));
        var original = _records.Find(busId.ToString()) is { } record ? record.OriginalDriver : GenericDriver;
        return new UsbIpExportPlan(busId, export.Device, writes, original ?? GenericDriver);
    }

    /// <summary>
    /// Does a removal plan, refusing a device a client uses unless <paramref name="force"/>. The reprobe can bind
    /// nothing and still succeed, so the driver link is checked and, when no driver took the device, the remembered
    /// one is bound directly. Returns the device as it is afterwards (null when unplugged); what the user should know
    /// (an entry the kernel keeps in match_busid) goes to <paramref name="warn"/>.
    /// </summary>
    /// <remarks>
    /// A caller that keeps the device's hub port passes <paramref name="port"/>: its claim is taken again once
    /// usbip-host has let the port go (its unbind) and before the reprobe, so the generic driver leaves the device
    /// unconfigured and no interface driver (usb-storage, usbhid) takes it.
    /// </remarks>
    public UsbDevice? Remove(UsbIpExportPlan plan, bool force = false, Action<string>? warn = null, UsbIpPortHandover? port = null)
    {
        if (plan.IsInUse && !force) throw UsbIpErrors.ExportInUse(plan.BusId);
        var done = new List<AttributeWrite>();
        string? reprobeError = null;
        var reclaimed = false;
        foreach (var write in plan.Writes)
        {
            if (write.SystemPath is RebindPath or DriversProbePath && !reclaimed)
            {
                port?.Reclaim();
                reclaimed = true;
            }
            try { write.Apply(_root); }
            catch (KernelWriteException e) when (write.SystemPath is RebindPath or DriversProbePath) { reprobeError = e.Message; }
            catch (KernelWriteException e) when (write.SystemPath == MatchBusIdPath && e.Errno == KernelErrno.ENODEV) { /* already gone */ }
            catch (VirtToolsException failure) { throw RemoveFailed(plan, write, failure, done); }
            done.Add(write);
        }
        if (!reclaimed) port?.Reclaim(); // unplugged: the empty port is held for the next device
        _records.Remove(plan.BusId.ToString());
        if (_host.GetMatchBusIds().Contains(plan.BusId))
            warn?.Invoke($"usbip-host keeps '{plan.BusId}' in its match_busid table, so it takes the device again when it is plugged in there. The entry goes when usbip-host is reloaded (modprobe -r usbip-host; modprobe usbip-host).");
        if (plan.Device is null) return null;

        if (DriverOf(plan.BusId) is null) TryWrite(new AttributeWrite(DriverAttribute(plan.ToDriver, "bind"), plan.BusId.ToString(), Exact: true));
        var driver = DriverOf(plan.BusId);
        if (driver is null || driver == UsbIpHostReader.DriverName)
            throw new VirtToolsException(UsbIpErrors.NotGivenBackId, FailureKind.DeviceError,
                $"'{plan.BusId}' is no longer exported, but {(driver is null ? "no driver took it back" : "usbip-host took it again")}: reprobing{(reprobeError is null ? " bound nothing" : $" failed ({reprobeError})")} and binding {plan.ToDriver} directly did not work either.",
                $"See the kernel log (dmesg); to retry by hand: echo -n {plan.BusId} > {DriverAttribute(plan.ToDriver, "bind")}", plan.BusId);
        return _devices.Find(plan.BusId);
    }

    private static AttributeWrite MatchBusId(string verb, UsbBusId busId) => new(MatchBusIdPath, $"{verb} {busId}", Exact: true);

    private string? DriverOf(UsbBusId busId) => _root.Directory(UsbDeviceReader.DevicesPath + "/" + busId).LinkName("driver");

    /// <summary>Does a write; returns why it failed, or null.</summary>
    private string? TryWrite(AttributeWrite write)
    {
        try { write.Apply(_root); return null; }
        catch (VirtToolsException e) { return e.Message; }
    }

    /// <summary>Undoes an export's steps, newest first, and says how each went.</summary>
    private string RollBack(UsbIpExportPlan plan, IReadOnlyList<AttributeWrite> done)
    {
        var busId = plan.BusId;
        var outcome = new List<string>();
        if (DriverOf(busId) == UsbIpHostReader.DriverName)
        {
            var error = TryWrite(new AttributeWrite(DriverAttribute(UsbIpHostReader.DriverName, "unbind"), busId.ToString(), Exact: true));
            outcome.Add(error is null ? "unbound from usbip-host" : $"could NOT unbind it from usbip-host ({error})");
        }
        if (plan.FromDriver is { } original && DriverOf(busId) is null)
        {
            var error = TryWrite(new AttributeWrite(DriverAttribute(original, "bind"), busId.ToString(), Exact: true));
            var now = DriverOf(busId);
            outcome.Add(now == original ? $"back on {original}" : $"could NOT be put back on {original} (now {now ?? "no driver"}{(error is null ? "" : "; " + error)})");
        }
        if (done.Contains(MatchBusId("add", busId)))
        {
            var error = TryWrite(MatchBusId("del", busId));
            // "del" only marks an entry usbip-host never held; rebind of the (again bound) device makes it leave.
            if (error is null && _host.GetMatchBusIds().Contains(busId) && DriverOf(busId) is not null && _root.Exists(RebindPath))
                error = TryWrite(new AttributeWrite(RebindPath, busId.ToString(), Exact: true));
            outcome.Add(_host.GetMatchBusIds().Contains(busId)
                ? $"still listed in match_busid{(error is null ? "" : $" ({error})")}"
                : "removed from match_busid");
        }
        return outcome.Count == 0 ? "Nothing had been changed." : $"Rolled back: {busId} {string.Join(", ", outcome)}.";
    }

    private VirtToolsException ExportFailed(UsbIpExportPlan plan, AttributeWrite write, VirtToolsException failure, string kernelSaid, string rollback)
    {
        if (write.SystemPath == MatchBusIdPath && failure is KernelWriteException { Errno: KernelErrno.ENOMEM or KernelErrno.ENOSPC })
            return UsbIpErrors.MatchTableFull(plan.BusId, _host.GetMatchBusIds(), failure);
        bool denied = failure.Kind == FailureKind.PermissionDenied;
        return new VirtToolsException(denied ? failure.ErrorId : UsbIpErrors.BindFailedId, denied ? FailureKind.PermissionDenied : FailureKind.DeviceError,
            $"Exporting '{plan.BusId}' failed at '{write}': {failure.Message}{kernelSaid} {rollback}",
            denied ? failure.RecommendedAction : "See the kernel log (dmesg) for what usbip-host or the device's driver said.", plan.BusId, failure);
    }

    private static VirtToolsException RemoveFailed(UsbIpExportPlan plan, AttributeWrite write, VirtToolsException failure, IReadOnlyList<AttributeWrite> done)
    {
        bool denied = failure.Kind == FailureKind.PermissionDenied;
        var before = done.Count == 0 ? "Nothing had been changed." : $"Done before it: {string.Join("; ", done)}.";
        return new VirtToolsException(denied ? failure.ErrorId : UsbIpErrors.UnexportFailedId, denied ? FailureKind.PermissionDenied : FailureKind.DeviceError,
            $"Removing the export of '{plan.BusId}' failed at '{write}': {failure.Message} {before}",
            denied ? failure.RecommendedAction : "See the kernel log (dmesg) for what usbip-host said.", plan.BusId, failure);
    }
}
