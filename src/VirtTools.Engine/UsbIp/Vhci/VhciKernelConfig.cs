using System.Globalization;
using System.IO.Compression;
using System.Text;
using VirtTools.Hypervisor;
using VirtTools.Sysfs;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// How the running vhci-hcd was built and loaded: CONFIG_USBIP_VHCI_NR_HCS and CONFIG_USBIP_VHCI_HC_PORTS (and
/// QVD's CONFIG_USB_MAXBUS) from /boot/config-&lt;release&gt; or /proc/config.gz, and the module's parameters in
/// /sys/module/vhci_hcd/parameters. Every value is null when the root does not hold the file that says it.
/// </summary>
public sealed record VhciKernelConfig(int? Controllers, int? PortsPerHub, int? UsbMaxBus, string? ConfigPath,
    IReadOnlyDictionary<string, string> ModuleParameters)
{
    public const string ProcConfig = "/proc/config.gz";
    public const string ModuleParametersPath = "/sys/module/vhci_hcd/parameters";

    /// <summary>
    /// The names Jakub Lecki's 2025 series gave the two build options as module parameters (not merged: a kernel
    /// carrying it, or a vendor's build of it, shows them in /sys/module/vhci_hcd/parameters).
    /// </summary>
    public const string ControllersParameter = "num_controllers";
    public const string PortsParameter = "hc_ports";

    /// <summary>A kernel configuration is a few hundred kilobytes; decompressing stops here whatever the file holds.</summary>
    private const int MaxConfigBytes = 4 << 20;

    /// <summary>At most this many parameters are read: a real module has a handful.</summary>
    private const int MaxParameters = 64;

    public bool HasControllersParameter => ModuleParameters.ContainsKey(ControllersParameter);

    public bool HasPortsParameter => ModuleParameters.ContainsKey(PortsParameter);

    public static VhciKernelConfig Read(SystemRoot root)
    {
        var (path, text) = ReadConfig(root);
        return new VhciKernelConfig(Option(text, "CONFIG_USBIP_VHCI_NR_HCS"), Option(text, "CONFIG_USBIP_VHCI_HC_PORTS"),
            Option(text, "CONFIG_USB_MAXBUS"), path, ReadParameters(root));
    }

    /// <summary>The configuration of the running kernel: its /boot file first, else the one built into it.</summary>
    private static (string? Path, string? Text) ReadConfig(SystemRoot root)
    {
        if (VirtHostProbe.KernelRelease(root) is { } release && !release.Contains('/', StringComparison.Ordinal))
        {
            var boot = "/boot/config-" + release;
            if (root.ReadText(boot) is { } text) return (boot, text);
        }
        return ReadGzip(root.Resolve(ProcConfig)) is { } built ? (ProcConfig, built) : (null, null);
    }

    private static string? ReadGzip(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            var buffer = new byte[MaxConfigBytes];
            int total = 0, n;
            while (total < buffer.Length && (n = gzip.Read(buffer, total, buffer.Length - total)) > 0) total += n;
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The value of "NAME=value" in a kernel configuration; null when it is absent, unset or not a number.</summary>
    public static int? Option(string? config, string name)
    {
        if (config is null) return null;
        var prefix = name + "=";
        foreach (var line in config.Split('\n'))
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return int.TryParse(line.AsSpan(prefix.Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        return null;
    }

    private static IReadOnlyDictionary<string, string> ReadParameters(SystemRoot root)
    {
        var parameters = root.Directory(ModuleParametersPath);
        return parameters.EntryNames().Take(MaxParameters)
            .Select(name => (Name: name, Value: parameters.String(name)))
            .Where(p => p.Value is not null)
            .ToDictionary(p => p.Name, p => p.Value!, StringComparer.Ordinal);
    }
}
