using System.Globalization;
using VirtTools.Diagnostics;

namespace VirtTools.UsbIp;

/// <summary>The failures about USB/IP exports and vhci ports that the readers and the commands report the same way.</summary>
public static class UsbIpErrors
{
    public const string ExportNotFound = "UsbIpExportNotFound";
    public const string PortNotFound = "UsbIpPortNotFound";
    public const string HostDriverMissingId = "UsbIpHostDriverMissing";
    public const string HubNotExportableId = "UsbIpHubNotExportable";
    public const string BindLoopId = "UsbIpBindLoop";
    public const string MatchTableFullId = "UsbIpMatchTableFull";
    public const string ExportInUseId = "UsbIpExportInUse";
    public const string BindFailedId = "UsbIpBindFailed";
    public const string UnexportFailedId = "UsbIpUnexportFailed";
    public const string NotGivenBackId = "UsbIpDeviceNotGivenBack";
    public const string InvalidBusIdId = "UsbIpInvalidBusId";
    public const string ConnectionLostId = "UsbIpConnectionLost";
    public const string InvalidAllowedClientId = "UsbIpInvalidAllowedClient";
    public const string ExportRecordInvalidId = "UsbIpExportRecordInvalid";
    public const string ExportStateCorruptId = "UsbIpExportStateCorrupt";
    public const string DeviceNotFoundId = "UsbIpDeviceNotFound";
    public const string DeviceNotAvailableId = "UsbIpDeviceNotAvailable";
    public const string DeviceBusyId = "UsbIpDeviceBusy";
    public const string DeviceErrorId = "UsbIpDeviceError";
    public const string ServerErrorId = "UsbIpServerError";
    public const string ServerTimeoutId = "UsbIpServerTimeout";
    public const string ServerUnreachableId = "UsbIpServerUnreachable";
    public const string PortInUseId = "UsbIpPortInUse";
    public const string ListenFailedId = "UsbIpListenFailed";
    public const string InvalidAddressId = "UsbIpInvalidAddress";

    /// <summary>The size of usbip-host's match_busid table (MAX_BUSID in stub_main.c).</summary>
    public const int MatchTableSize = 16;

    public static VirtToolsException HostDriverMissing(string busId) => new(HostDriverMissingId, FailureKind.NotInstalled,
        $"The usbip-host driver is not loaded (there is no /sys/bus/usb/drivers/usbip-host), so '{busId}' cannot be exported.",
        "Load it with 'modprobe usbip-host' (list usbip-host in /etc/modules-load.d/ to load it at boot), then try again.", busId);

    public static VirtToolsException HubNotExportable(string busId) => new(HubNotExportableId, FailureKind.InvalidArgument,
        $"'{busId}' is a hub (class 09): usbip-host does not export hubs, and neither does 'usbip bind'.",
        "Export the devices plugged into the hub instead (Get-UsbDevice shows each with its ParentBusId).", busId);

    public static VirtToolsException BindLoop(string busId, string controller) => new(BindLoopId, FailureKind.InvalidArgument,
        $"'{busId}' is itself imported over USB/IP (it sits on {controller}): exporting it again would make a bind loop, which usbip-host refuses.",
        "Export the device on the host it is physically plugged into.", busId);

    public static VirtToolsException MatchTableFull(string busId, IReadOnlyList<string> table, Exception cause) => new(MatchTableFullId, FailureKind.LimitExceeded,
        $"usbip-host's match_busid table is full: the kernel keeps at most {MatchTableSize} bus ids ({string.Join(" ", table)}), so '{busId}' cannot be added. The table lives in RAM and is emptied when usbip-host is unloaded.",
        "Stop exporting devices you no longer share with Remove-UsbIpExport. Entries of devices that are gone or no longer bound leave the table only through usbip-host's rebind (echo -n BUSID > /sys/bus/usb/drivers/usbip-host/rebind while the device is plugged in) or by reloading the module (modprobe -r usbip-host; modprobe usbip-host), which unexports everything.",
        busId, cause);

    public static VirtToolsException ExportInUse(string busId) => new(ExportInUseId, FailureKind.ResourceBusy,
        $"'{busId}' is in use: a USB/IP client imported it (usbip_status 2). Unexporting it cuts that client off.",
        "Detach it on the client first (Disconnect-UsbIpDevice, or usbip detach), or confirm the prompt (or pass -Force) to take it away.", busId);

    public static VirtToolsException NoExport(string busId, bool driverLoaded) => new(ExportNotFound, FailureKind.NotFound,
        driverLoaded
            ? $"The USB device '{busId}' is not exported: usbip-host neither holds it nor lists it in match_busid."
            : $"The USB device '{busId}' is not exported: the usbip-host driver is not loaded, so nothing is.",
        driverLoaded ? "Export it with Export-UsbIpDevice, or run Get-UsbIpExport to see what is exported." : "Load the driver with 'modprobe usbip-host', then export the device with Export-UsbIpDevice.",
        busId);

    public static VirtToolsException InvalidAllowedClient(string entry, string problem) => new(InvalidAllowedClientId, FailureKind.InvalidArgument,
        $"The allowed client {problem}.",
        "Give addresses (192.0.2.7, ::1) or networks with no host bits set (10.0.0.0/8, fd00::/8), or 'any' to serve every client.", entry);

    public static VirtToolsException NoPort(int port, bool vhciLoaded) => new(PortNotFound, FailureKind.NotFound,
        vhciLoaded
            ? string.Create(CultureInfo.InvariantCulture, $"There is no vhci_hcd port {port}.")
            : string.Create(CultureInfo.InvariantCulture, $"There is no vhci_hcd port {port}: the vhci-hcd driver is not loaded."),
        vhciLoaded ? "Run Get-UsbIpPort to see the ports every vhci_hcd controller has." : "Load the driver with 'modprobe vhci-hcd'.",
        port);

    /// <summary>A bus id given to the client that no server could hold; refused before anything is sent.</summary>
    public static VirtToolsException InvalidBusId(string busId, string problem) => new(InvalidBusIdId, FailureKind.InvalidArgument,
        $"The bus id {Protocol.UsbIpPeerText.Quote(busId)} {problem}.",
        "Give the bus id as Get-UsbIpDevice lists it (such as 1-1.2).", busId);

    /// <summary>The connection to a server broke while the client waited for its reply (a reset, a network error).</summary>
    public static VirtToolsException ConnectionLost(string server, string computerName, Exception cause) => new(ConnectionLostId, FailureKind.ConnectionError,
        $"The connection to the USB/IP server {server} broke before its reply was complete: {cause.Message}.",
        $"Try again; if it keeps happening, look at the server's log on {server} and at the network between the two hosts.", computerName, cause);
}
