using VirtTools.Sysfs;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// usbcore's bus numbers, the ceiling behind every vhci build: the numbers there are (USB_MAXBUS − 1), those the
/// physical host controllers hold (the usbN entries of /sys/bus/usb/devices not below a vhci_hcd.N), and so the most
/// vhci_hcd controllers this host could register, two buses each.
/// </summary>
public sealed record UsbBusBudget(int UsbMaxBus, int PhysicalBuses, int VhciBuses)
{
    public const string BusDevices = "/sys/bus/usb/devices";

    /// <summary>Bus numbers usbcore can hand out: 1 to USB_MAXBUS − 1.</summary>
    public int BusNumbers => UsbMaxBus - 1;

    /// <summary>The most controllers the bus numbers the physical controllers leave could carry, within Kconfig's 128.</summary>
    public int MaxControllers =>
        Math.Clamp((BusNumbers - PhysicalBuses) / VhciBuildLimits.BusesPerController, 0, VhciBuildLimits.MaxControllers);

    /// <param name="usbMaxBus">USB_MAXBUS of this kernel: 64, or QVD's CONFIG_USB_MAXBUS when its build says so.</param>
    public static UsbBusBudget Read(SystemRoot root, int? usbMaxBus)
    {
        var devices = root.Directory(BusDevices);
        int physical = 0, vhci = 0;
        foreach (var name in devices.EntryNames().Where(IsRootHub))
        {
            var place = devices.LinkTarget(name) ?? devices.Child(name).Resolved().Path;
            if (place.Contains("/" + VhciReader.ControllerPrefix, StringComparison.Ordinal)) vhci++; else physical++;
        }
        return new UsbBusBudget(usbMaxBus is > 1 ? usbMaxBus.Value : VhciBuildLimits.UsbMaxBus, physical, vhci);
    }

    /// <summary>"usb3": a bus's root hub; "3-1" and "3-0:1.0" are devices and interfaces on it.</summary>
    private static bool IsRootHub(string name) =>
        name.Length > 3 && name.StartsWith("usb", StringComparison.Ordinal) && name.AsSpan(3).IndexOfAnyExceptInRange('0', '9') < 0;
}
