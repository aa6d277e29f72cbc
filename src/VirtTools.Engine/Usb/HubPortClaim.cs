using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Usb;

/// <summary>
/// A hub port held with USBDEVFS_CLAIM_PORT on the parent hub's usbfs node, open for as long as the claim lasts (the
/// kernel's owner is the open file). A device plugged into a held port still enumerates and binds to the generic "usb"
/// driver, but stays unconfigured and no interface driver binds (drivers/usb/core/generic.c, driver.c): nothing on
/// the host mounts the stick or takes the keyboard. usbip-host claims the port itself when it binds, so the claim is
/// released just before that bind and taken again after usbip-host lets go.
/// </summary>
public sealed class HubPortClaim : IDisposable
{
    private readonly IUsbFsHub _node;
    private bool _held = true;

    private HubPortClaim(UsbBusId busId, HubPort port, string hubDevicePath, IUsbFsHub node)
    {
        BusId = busId;
        Port = port;
        HubDevicePath = hubDevicePath;
        _node = node;
    }

    /// <summary>The bus id a device plugged into the port gets ("1-2.3").</summary>
    public UsbBusId BusId { get; }

    public HubPort Port { get; }

    /// <summary>The hub's usbfs node the claim is held on ("/dev/bus/usb/001/002").</summary>
    public string HubDevicePath { get; }

    public bool IsHeld => _held;

    /// <summary>Claims the port a device with <paramref name="busId"/> is (or would be) plugged into.</summary>
    public static HubPortClaim Acquire(SystemRoot root, UsbBusId busId, UsbDeviceReader? devices = null)
    {
        if (!HubPort.TryFrom(busId, out var port)) throw UsbErrors.NotAPort(busId);
        var hub = (devices ?? new UsbDeviceReader(root)).Find(port.HubBusId);
        if (hub?.DevicePath is not { } node) throw UsbErrors.NoHub(busId, port);
        IUsbFsHub opened;
        try { opened = root.UsbFs.OpenHub(node); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw UsbErrors.PortClaimFailed(busId, port, node, "open", e); }
        try { opened.ClaimPort(port.Port); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            opened.Dispose();
            throw UsbErrors.PortClaimFailed(busId, port, node, "claim", e);
        }
        return new HubPortClaim(busId, port, node, opened);
    }

    /// <summary>
    /// Gives the port up now with USBDEVFS_RELEASE_PORT, then closes the node. Closing alone releases too, but only
    /// when the last copy of the descriptor goes: one inherited by a child between fork and exec would keep the
    /// port claimed while usbip-host tries to take it.
    /// </summary>
    public void Release()
    {
        if (!_held) return;
        _held = false;
        try { _node.ReleasePort(Port.Port); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw UsbErrors.PortClaimFailed(BusId, Port, HubDevicePath, "release", e); }
        finally { _node.Dispose(); }
    }

    /// <summary>Closes the node, which releases the port (what a crash does too).</summary>
    public void Dispose()
    {
        _held = false;
        _node.Dispose();
    }

    public override string ToString() => $"{Port} ({BusId}, {HubDevicePath})";
}
