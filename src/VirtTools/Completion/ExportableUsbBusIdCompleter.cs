using VirtTools.Usb;

namespace VirtTools.Commands.Completion;

/// <summary>Completes the bus ids Export-UsbIpDevice can share: devices that are not hubs and not shared yet.</summary>
public sealed class ExportableUsbBusIdCompleter : UsbBusIdCompleter
{
    protected override bool Offers(UsbDevice device) => !device.IsHub && !device.IsExported;
}
