using VirtTools.Sysfs;
using VirtTools.Usb;

namespace VirtTools.Commands.Completion;

/// <summary>Completes the bus id of every local USB device, hubs included (naming a hub lists it).</summary>
public class UsbBusIdCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root) =>
        new UsbDeviceReader(root).GetDevices().Where(Offers).Select(d => new CompletionCandidate(d.BusId.ToString(), Describe(d)));

    /// <summary>Which devices this completer offers.</summary>
    protected virtual bool Offers(UsbDevice device) => true;

    /// <summary>"0627:0001 QEMU USB Keyboard [usbhid]": the ids, what a person calls it, the driver that has it.</summary>
    internal static string Describe(UsbDevice device) =>
        CompletionCandidate.Words($"{device.VendorId}:{device.ProductId}", device.Description, $"[{DriverOf(device)}]");

    // A device whose own driver is the generic "usb" is really driven through its interfaces (usbhid, usb-storage).
    private static string DriverOf(UsbDevice device) =>
        device.Driver == "usb" && device.InterfaceDrivers.Length > 0 ? string.Join(",", device.InterfaceDrivers)
        : device.Driver ?? "no driver";
}
