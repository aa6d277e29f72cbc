namespace VirtTools.Bench;

/// <summary>
/// Writes a sysfs-shaped tree under a root folder: attribute files with the kernel's trailing newline, and
/// symlinks with relative targets as sysfs has them, so link resolution costs what it costs on a real kernel.
/// </summary>
public sealed class SyntheticTree
{
    public SyntheticTree(string root) => Root = root;

    public string Root { get; }

    public string Resolve(string systemPath) => Path.Combine(Root, systemPath.TrimStart('/'));

    public void Directory(string systemPath) => System.IO.Directory.CreateDirectory(Resolve(systemPath));

    /// <summary>An attribute: the value and a newline, in a directory that is created when missing.</summary>
    public void Attribute(string systemPath, string value) => Text(systemPath, value + "\n");

    public void Text(string systemPath, string content)
    {
        var path = Resolve(systemPath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public void Bytes(string systemPath, byte[] content)
    {
        var path = Resolve(systemPath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    /// <summary>Several attributes of one kernel object at once.</summary>
    public void Attributes(string directory, params (string Name, string Value)[] attributes)
    {
        System.IO.Directory.CreateDirectory(Resolve(directory));
        foreach (var (name, value) in attributes) File.WriteAllText(Resolve(directory + "/" + name), value + "\n");
    }

    /// <summary>A symlink at <paramref name="systemPath"/> to the system path <paramref name="target"/>, written relative.</summary>
    public void Link(string systemPath, string target)
    {
        var path = Resolve(systemPath);
        var directory = Path.GetDirectoryName(path)!;
        System.IO.Directory.CreateDirectory(directory);
        File.CreateSymbolicLink(path, Path.GetRelativePath(directory, Resolve(target)));
    }
}
