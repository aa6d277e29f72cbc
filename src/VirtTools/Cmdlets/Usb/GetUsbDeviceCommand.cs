using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Usb;

namespace VirtTools.Commands.Usb;

/// <summary>Lists local USB devices from sysfs. Hubs are left out unless -IncludeHub is given or their bus id is named.</summary>
[Cmdlet(VerbsCommon.Get, "UsbDevice")]
[OutputType(typeof(UsbDevice))]
public sealed class GetUsbDeviceCommand : VirtToolsCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(UsbBusIdCompleter))]
    public string[]? BusId { get; set; }

    [Parameter]
    [ValidateUsbId]
    public string[]? VendorId { get; set; }

    [Parameter]
    [ValidateUsbId]
    public string[]? ProductId { get; set; }

    [Parameter]
    public SwitchParameter IncludeHub { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var reader = new UsbDeviceReader(SystemRoot);
        var busIds = reader.GetBusIds().Select(busId => (Id: busId, Name: busId.ToString())).ToList();
        var pattern = new Wildcards(BusId);
        var named = Wildcards.Literals(BusId).ToHashSet(StringComparer.OrdinalIgnoreCase);
        HashSet<string>? vendors = ValidateUsbIdAttribute.Normalize(VendorId), products = ValidateUsbIdAttribute.Normalize(ProductId);
        foreach (var (busId, name) in busIds.Where(b => pattern.Matches(b.Name)))
        {
            if (reader.Find(busId) is not { } device) continue;
            if (device.IsHub && !IncludeHub && !named.Contains(name)) continue;
            if (vendors is not null && (device.VendorId is null || !vendors.Contains(device.VendorId))) continue;
            if (products is not null && (device.ProductId is null || !products.Contains(device.ProductId))) continue;
            WarnIfNamesMissing(device.NameSource, "usb.ids");
            WriteObject(device);
        }
        foreach (var missing in named.Where(id => !busIds.Any(b => string.Equals(b.Name, id, StringComparison.OrdinalIgnoreCase))))
            WriteFailure(UsbErrors.NoDevice(missing), missing);
    }
}
