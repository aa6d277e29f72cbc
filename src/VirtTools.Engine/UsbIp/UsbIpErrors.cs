using System.Globalization;
using VirtTools.Diagnostics;

namespace VirtTools.UsbIp;

/// <summary>The failures about USB/IP exports and vhci ports that the readers and the commands report the same way.</summary>
public static class UsbIpErrors
{
    public const string ExportNotFound = "UsbIpExportNotFound";
    public const string PortNotFound = "UsbIpPortNotFound";

    public static VirtToolsException NoExport(string busId, bool driverLoaded) => new(ExportNotFound, FailureKind.NotFound,
        driverLoaded
            ? $"The USB device '{busId}' is not exported: usbip-host neither holds it nor lists it in match_busid."
            : $"The USB device '{busId}' is not exported: the usbip-host driver is not loaded, so nothing is.",
        driverLoaded ? "Export it with Export-UsbIpDevice, or run Get-UsbIpExport to see what is exported." : "Load the driver with 'modprobe usbip-host', then export the device with Export-UsbIpDevice.",
        busId);

    public static VirtToolsException NoPort(int port, bool vhciLoaded) => new(PortNotFound, FailureKind.NotFound,
        vhciLoaded
            ? string.Create(CultureInfo.InvariantCulture, $"There is no vhci_hcd port {port}.")
            : string.Create(CultureInfo.InvariantCulture, $"There is no vhci_hcd port {port}: the vhci-hcd driver is not loaded."),
        vhciLoaded ? "Run Get-UsbIpPort to see the ports every vhci_hcd controller has." : "Load the driver with 'modprobe vhci-hcd'.",
        port);
}
