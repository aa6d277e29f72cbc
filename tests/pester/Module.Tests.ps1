# The module folder users install (out/VirtTools) keeps its YamlDotNet to itself: the *-VirtHostConfig cmdlets work in a
# session where another YAML module already loaded an older YamlDotNet, and that module keeps its own. Each case runs in
# a fresh child pwsh, since a session cannot unload the copy it loaded.

BeforeDiscovery {
    # powershell-yaml ships YamlDotNet 11.2.1; 13.x is common in others. tests/pester/ConflictingYamlDotNet.proj fetches both.
    $otherYamlDotNets = @(
        @{ Version = '13.7.1'; Framework = 'net7.0' }
        @{ Version = '11.2.1'; Framework = 'netstandard2.1' }
    )
}

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/ChildPwsh.ps1
    $script:Packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }

    # What the profile must say, read straight from the captured tree rather than through VirtTools.
    $script:Fixture = New-FixtureCopy
    $script:PagesToScan = [int](Get-Content -Raw (Join-Path $Fixture 'sys/kernel/mm/ksm/pages_to_scan'))

    # The session a user of another YAML module has, then VirtTools: reports what each of them sees.
    $script:ConflictingSession = {
        param($OtherYamlDotNet, $Module, $Root, $Folder)
        Add-Type -Path $OtherYamlDotNet
        Import-Module $Module
        $profilePath = Join-Path $Folder 'host.yaml'
        Export-VirtHostConfig -Root $Root -Path $profilePath
        $config = Get-VirtHostConfig $profilePath
        # The other module's YamlDotNet, as its scripts name it, reads the profile VirtTools wrote.
        $stream = [YamlDotNet.RepresentationModel.YamlStream]::new()
        $stream.Load([IO.StringReader]::new((Get-Content -Raw $profilePath)))
        $pci = @(Get-PciDevice -Root $Root)
        @{
            SessionYamlDotNet   = [YamlDotNet.RepresentationModel.YamlStream].Assembly.GetName().Version.ToString()
            SessionReadSections = @($stream.Documents[0].RootNode.Children.Keys | ForEach-Object Value)
            VirtToolsYamlDotNet = @([AppDomain]::CurrentDomain.GetAssemblies() |
                    Where-Object { [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name -eq 'VirtTools dependencies' } |
                    ForEach-Object { $_.GetName().ToString() })
            ConfigIsTyped       = $config -is [VirtTools.Config.VirtHostConfig]
            PagesToScan         = $config.Ksm.PagesToScan
            PciIsTyped          = $pci[0] -is [VirtTools.Pci.PciDevice]
            PciTable            = $pci | Out-String -Width 200
            GroupsPiped         = @($pci | Get-IommuGroup -Root $Root | ForEach-Object { $_.GetType().FullName } | Select-Object -Unique)
        }
    }
}

AfterAll {
    Remove-FixtureCopy $script:Fixture
}

Describe 'VirtTools in a session that already loaded YamlDotNet <Version>' -ForEach $otherYamlDotNets {
    BeforeAll {
        $otherYamlDotNet = Join-Path $Packages "yamldotnet/$Version/lib/$Framework/YamlDotNet.dll"
        if (-not (Test-Path $otherYamlDotNet)) { throw "YamlDotNet $Version is not in $Packages; run: dotnet restore tests/pester/ConflictingYamlDotNet.proj" }
        $folder = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'profile')).FullName
        $seen = Invoke-ChildPwsh -Script $ConflictingSession -ArgumentList $otherYamlDotNet, $ModuleManifest, $Fixture, $folder
    }

    It 'exports the host profile and reads it back' {
        $seen.ConfigIsTyped | Should -BeTrue
        $seen.PagesToScan | Should -Be $PagesToScan
    }

    It 'runs the engine on its own YamlDotNet 16, in the VirtTools dependencies context' {
        $seen.VirtToolsYamlDotNet | Should -HaveCount 1
        $seen.VirtToolsYamlDotNet[0] | Should -BeLike 'YamlDotNet, Version=16.*'
    }

    It 'leaves the session its YamlDotNet <Version>, which reads the profile VirtTools wrote' {
        # YamlDotNet's assembly version carries only the major version.
        $seen.SessionYamlDotNet | Should -Be "$(([version]$Version).Major).0.0.0"
        $seen.SessionReadSections | Should -Be @('usbip', 'pci', 'ksm')
    }

    It 'keeps engine types usable as type literals, in the table views and down the pipeline' {
        $seen.PciIsTyped | Should -BeTrue
        $seen.PciTable | Should -Match '(?m)^Address\s+Id\s+Class\s+Driver'
        $seen.GroupsPiped | Should -Be @('VirtTools.Pci.IommuGroup')
    }
}

Describe 'A YAML module loaded after VirtTools' {
    It 'gets its own YamlDotNet, and both keep working' {
        $otherYamlDotNet = Join-Path $Packages 'yamldotnet/13.7.1/lib/net7.0/YamlDotNet.dll'
        $folder = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'after')).FullName
        $seen = Invoke-ChildPwsh -ArgumentList $otherYamlDotNet, $ModuleManifest, $Fixture, $folder -Script {
            param($OtherYamlDotNet, $Module, $Root, $Folder)
            Import-Module $Module
            $before = Export-VirtHostConfig -Root $Root
            Add-Type -Path $OtherYamlDotNet
            $stream = [YamlDotNet.RepresentationModel.YamlStream]::new()
            $stream.Load([IO.StringReader]::new($before))
            Export-VirtHostConfig -Root $Root -Path (Join-Path $Folder 'host.yaml')
            @{
                SessionYamlDotNet = [YamlDotNet.RepresentationModel.YamlStream].Assembly.GetName().Version.ToString()
                Documents         = $stream.Documents.Count
                PagesToScan       = (Get-VirtHostConfig (Join-Path $Folder 'host.yaml')).Ksm.PagesToScan
            }
        }
        $seen.SessionYamlDotNet | Should -Be '13.0.0.0'
        $seen.Documents | Should -Be 1
        $seen.PagesToScan | Should -Be $PagesToScan
    }
}
