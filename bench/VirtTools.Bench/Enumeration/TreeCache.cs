namespace VirtTools.Bench.Enumeration;

/// <summary>
/// Synthetic trees are written once under the work folder and reused by later runs (10,000 devices is ~600,000
/// files); a marker written last says a tree is complete and which generator version wrote it.
/// </summary>
public static class TreeCache
{
    /// <summary>Bump when the generators change what they write.</summary>
    private const string GeneratorVersion = "4";

    public static string Usb(string work, int devices) => Get(work, $"usb-{devices}", root => SyntheticUsbTree.Write(root, devices).ToString());

    public static string Pci(string work, int functions) => Get(work, $"pci-{functions}", root => SyntheticPciTree.Write(root, functions).ToString());

    private static string Get(string work, string name, Func<string, string> write)
    {
        var root = Path.Combine(work, name);
        var marker = Path.Combine(root, ".complete");
        if (File.Exists(marker) && File.ReadAllLines(marker).FirstOrDefault() == GeneratorVersion) return root;
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Console.WriteLine($"  writing synthetic tree {root} ...");
        var shape = write(root);
        File.WriteAllLines(marker, new[] { GeneratorVersion, shape });
        return root;
    }
}
